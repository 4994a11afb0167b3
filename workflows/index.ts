// The workflows the worker runs (bundled from this file).
export { invoice } from './invoice';
export { bulkExtendKeys } from './bulk-extend-keys';
export { bulkNewVersion } from './bulk-new-version';
export { checkout } from './checkout';
