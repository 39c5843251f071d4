export { run } from '../host/bench/invoke-overhead';
