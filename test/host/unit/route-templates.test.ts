/** Behaviour: route templates compile and match like ASP.NET Core routes (pure logic). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { compileRoute, RouteTable, RouteTemplateError } from '../../../lib/host/routes';

const match = (template: string, path: string, prefix = 'api') =>
  compileRoute(prefix, template, undefined, null).match(path);

test('literals are case-insensitive; a trailing slash is allowed', () => {
  assert.deepEqual(match('Hello/World', '/api/hello/world/'), {});
  assert.equal(match('hello', '/api/hello/x'), undefined);
  assert.deepEqual(match('hello', '/hello', ''), {});
});

test('type constraints', () => {
  assert.deepEqual(match('n/{id:int}', '/api/n/-12'), { id: '-12' });
  assert.equal(match('n/{id:int}', '/api/n/1.5'), undefined);
  assert.equal(match('n/{id:int}', '/api/n/99999999999'), undefined);
  assert.deepEqual(match('n/{id:long}', '/api/n/99999999999'), { id: '99999999999' });
  assert.deepEqual(match('d/{x:double}', '/api/d/1.5e3'), { x: '1.5e3' });
  assert.deepEqual(match('b/{x:bool}', '/api/b/TRUE'), { x: 'TRUE' });
  assert.equal(match('b/{x:bool}', '/api/b/yes'), undefined);
  assert.equal(match('a/{x:alpha}', '/api/a/ab1'), undefined);
  assert.deepEqual(match('g/{x:guid}', '/api/g/6F9619FF-8B86-D011-B42D-00CF4FC964FF'), {
    x: '6F9619FF-8B86-D011-B42D-00CF4FC964FF',
  });
  assert.deepEqual(match('r/{x:int:range(1,5)}', '/api/r/5'), { x: '5' });
  assert.equal(match('r/{x:int:range(1,5)}', '/api/r/6'), undefined);
  assert.deepEqual(match('s/{x:length(2,3)}', '/api/s/abc'), { x: 'abc' });
  assert.deepEqual(match('s/{x:regex(^v[0-9]+$)}', '/api/s/v12'), { x: 'v12' });
  assert.deepEqual(match('dt/{x:datetime}', '/api/dt/2026-01-01'), { x: '2026-01-01' });
});

test('optional, default and catch-all parameters; mixed segments', () => {
  assert.deepEqual(match('o/{a?}', '/api/o'), {});
  assert.deepEqual(match('o/{a?}', '/api/o/x'), { a: 'x' });
  assert.deepEqual(match('o/{a:int?}', '/api/o/7'), { a: '7' });
  assert.equal(match('o/{a:int?}', '/api/o/x'), undefined);
  assert.deepEqual(match('p/{page=1}', '/api/p'), { page: '1' });
  assert.deepEqual(match('f/{*rest}', '/api/f/a/b%2Fc/d'), { rest: 'a/b/c/d' });
  assert.deepEqual(match('f/{*rest}', '/api/f'), {});
  assert.deepEqual(match('files/{name}.{ext}', '/api/files/report.tar.gz'), {
    name: 'report',
    ext: 'tar.gz',
  });
  assert.deepEqual(match('u/{name}', '/api/u/J%C3%BCrgen'), { name: 'Jürgen' });
});

test('bad templates are clear errors', () => {
  assert.throws(() => compileRoute('api', 'x/{id:integer}', undefined, null), RouteTemplateError);
  assert.throws(() => compileRoute('api', 'x/{*rest}/more', undefined, null), /catch-all/);
  assert.throws(() => compileRoute('api', 'x/{bad name}', undefined, null), /parameter name/);
});

test('most specific route wins; 404 and 405 are told apart', () => {
  const t = new RouteTable<string>();
  t.add(compileRoute('api', 'items/{*rest}', ['GET'], 'catchall'));
  t.add(compileRoute('api', 'items/{id}', ['GET'], 'plain'));
  t.add(compileRoute('api', 'items/{id:int}', ['GET', 'PUT'], 'int'));
  t.add(compileRoute('api', 'items/special', ['GET'], 'literal'));
  const target = (m: string, p: string) => {
    const r = t.lookup(m, p);
    return r.kind === 'match'
      ? r.route.target
      : r.kind === 'method-not-allowed'
        ? `405 ${r.allow.join(',')}`
        : '404';
  };
  assert.equal(target('GET', '/api/items/special'), 'literal');
  assert.equal(target('GET', '/api/items/5'), 'int');
  assert.equal(target('GET', '/api/items/x'), 'plain');
  assert.equal(target('GET', '/api/items/x/y'), 'catchall');
  assert.equal(target('DELETE', '/api/items/5'), '405 GET,PUT');
  assert.equal(target('GET', '/other'), '404');
});

test('any path segment value round-trips through a plain parameter', () => {
  const route = compileRoute('api', 'v/{x}', undefined, null);
  fc.assert(
    fc.property(fc.string({ minLength: 1 }), (s) => {
      const got = route.match(`/api/v/${encodeURIComponent(s)}`);
      assert.deepEqual(got, { x: s });
    }),
  );
});
