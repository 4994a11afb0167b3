// The workflows the worker runs (bundled from this file).
export { invoice } from './invoice';
