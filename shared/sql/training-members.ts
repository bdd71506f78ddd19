// TrainingMembers over SqlClient: which customers a table-trained model was trained on (the
// `training_members` table), which the origin rule reads when labeling.

import type { Customer } from '../csv/contract.ts';
import type { SqlClient, SqlRow, SqlValue, TrainingMembers } from '../ports.ts';
import { MALL_SCHEMA, type CustomerSchema } from '../schema/customer-schema.ts';
import { batches, complete, customerReader, CUSTOMER_PAGE_ROWS, featureSelect, int, pageRows, pagesByKey } from './rows.ts';

export class SqlTrainingMembers implements TrainingMembers {
  private readonly toCustomer: (row: SqlRow) => Customer;

  /** `schema`: the customers table's (see SqlCustomers); the mall's by default. */
  constructor(
    private readonly sql: SqlClient,
    private readonly schema: CustomerSchema = MALL_SCHEMA,
  ) {
    this.toCustomer = customerReader(schema);
  }

  async recordTrainingMembers(modelVersion: string, customerIds: readonly string[]): Promise<number> {
    let recorded = 0;
    for (const batch of batches(customerIds)) {
      const params: Record<string, SqlValue> = { model_version: modelVersion };
      const values = batch.map((id, i) => {
        params[`id_${i}`] = id;
        return `(CAST(:model_version AS text), CAST(:id_${i} AS text))`;
      });
      const [row] = await this.sql.query(
        `WITH added AS (
           INSERT INTO training_members (model_version, customer_id) VALUES ${values.join(', ')}
           ON CONFLICT DO NOTHING RETURNING 1)
         SELECT CAST(count(*) AS integer) AS n FROM added`,
        params,
      );
      recorded += int(row?.n);
    }
    return recorded;
  }

  /**
   * The members' rows with a value in each feature of `schema` — the schema the model was trained
   * with, whose columns the caller has checked are still in the table (the table's own by default).
   */
  async *readTrainingMembers(
    modelVersion: string,
    schema: CustomerSchema = this.schema,
    pageSize = pageRows(schema, CUSTOMER_PAGE_ROWS),
  ): AsyncGenerator<Customer[]> {
    const toCustomer = schema === this.schema ? this.toCustomer : customerReader(schema);
    const pages = pagesByKey(
      this.sql,
      `SELECT c.customer_id, ${featureSelect(schema, 'c')}
       FROM training_members AS t JOIN customers AS c ON c.customer_id = t.customer_id
       WHERE t.model_version = CAST(:model_version AS text) AND t.customer_id > CAST(:after AS text)
         AND ${complete(
           schema.features.map((f) => f.name),
           'c',
         )}
       ORDER BY t.customer_id LIMIT CAST(:page_size AS integer)`,
      { model_version: modelVersion },
      pageSize,
    );
    for await (const rows of pages) yield rows.map(toCustomer);
  }

  async trainingMembersAmong(modelVersion: string, customerIds: readonly string[]): Promise<Set<string>> {
    const members = new Set<string>();
    for (const batch of batches(customerIds)) {
      const params: Record<string, SqlValue> = { model_version: modelVersion };
      const list = batch.map((id, i) => {
        params[`id_${i}`] = id;
        return `CAST(:id_${i} AS text)`;
      });
      const rows = await this.sql.query(
        `SELECT customer_id FROM training_members WHERE model_version = CAST(:model_version AS text) AND customer_id IN (${list.join(', ')})`,
        params,
      );
      for (const r of rows) members.add(String(r.customer_id));
    }
    return members;
  }
}
