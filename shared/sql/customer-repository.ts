// The one repository class of old is now split by concern, each part behind its port in ports.ts
// (database.ts puts them side by side). These names stay only for shared/workflows/ingest.ts and
// report.ts until they import their ports from ports.ts; then this file goes.

export type { Database as SqlCustomerRepository, RunRecord, TableStatus } from '../ports.ts';
