// The database ports on Aurora PostgreSQL through the RDS Data API (the deployed functions): every
// statement is shared/sql's; this adapter only supplies the Data API SqlClient.

import type { RDSDataClient } from '@aws-sdk/client-rds-data';
import type { CustomerSchema } from '../../shared/schema/customer-schema.ts';
import { SqlDatabase } from '../../shared/sql/database.ts';
import type { RetryOptions } from './retry.ts';
import { DataApiSqlClient, type DataApiConfig } from './data-api-sql-client.ts';

export class DataApiCustomerRepository extends SqlDatabase {
  /** `schema`: the customers table's (the deployed one, deployedSchema()); the mall's by default. */
  constructor(config: DataApiConfig, client?: RDSDataClient, retry?: Partial<RetryOptions>, schema?: CustomerSchema) {
    super(new DataApiSqlClient(config, client, retry), schema);
  }
}
