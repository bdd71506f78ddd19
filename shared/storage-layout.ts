// The storage layout (design.md "Storage layout"), shared by the functions that read and write
// the bucket and the stack that grants access to it and triggers on it.

export const UPLOADS_TRAINING_PREFIX = 'uploads/training/';
export const UPLOADS_CUSTOMERS_PREFIX = 'uploads/customers/';
export const UPLOAD_SUFFIX = '.csv';
export const MODELS_PREFIX = 'models/';
export const ACTIVE_MODEL_KEY = 'models/active.json';
export const RESULTS_PREFIX = 'results/';
export const CUSTOMER_RESULTS_PREFIX = 'results/customers/';
export const TRAINING_RESULTS_PREFIX = 'results/training/';
export const EXPORTS_PREFIX = 'results/exports/';
