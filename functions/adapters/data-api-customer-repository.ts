// CustomerRepository on Aurora PostgreSQL through the RDS Data API (the deployed functions).

import type { RDSDataClient } from '@aws-sdk/client-rds-data';
import { SqlCustomerRepository } from '../../shared/sql/customer-repository.ts';
import type { RetryOptions } from './retry.ts';
import { DataApiSqlClient, type DataApiConfig } from './data-api-sql-client.ts';

export class DataApiCustomerRepository extends SqlCustomerRepository {
  constructor(config: DataApiConfig, client?: RDSDataClient, retry?: Partial<RetryOptions>) {
    super(new DataApiSqlClient(config, client, retry));
  }
}
