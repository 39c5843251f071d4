export { run } from '../stack/bench';
