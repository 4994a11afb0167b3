export { freshDatabase, type TestDatabase } from './postgres';
export { devTemporal, timeSkipping, type DevTemporal } from './temporal';
export { smtpCapture, type SmtpCapture, type CapturedMail } from './smtp';
export { workflowBundle } from './bundle';
export { freePort } from './ports';
