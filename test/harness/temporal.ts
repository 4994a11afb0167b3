// Temporal servers for tests, from the executables `npm install` put in .tools/temporal:
// the shared dev server that test/run.ts starts (or one of this process's own), and the
// time-skipping test server, which knows no custom search attributes until we add them.
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { temporal } from '@temporalio/proto';
import { searchAttributeKeys } from '../../workflows/search-attributes';
import { sdkExecutable } from '../../temporal-server/executables';

// Worker state chatter drowns test output; warnings and errors still show.
Runtime.install({ logger: new DefaultLogger(process.env.TEMPORAL_LOG_LEVEL === 'debug' ? 'DEBUG' : 'WARN') });

export interface DevTemporal {
  address: string;
  namespace: string;
  client: Client;
  connection: Connection;
  nativeConnection: NativeConnection;
  close(): Promise<void>;
}

let ownServer: Promise<TestWorkflowEnvironment> | undefined;

async function devServerAddress(): Promise<string> {
  const shared = process.env.KEYSHIP_TEST_TEMPORAL_ADDRESS;
  if (shared) return shared;
  ownServer ??= TestWorkflowEnvironment.createLocal({
    server: { executable: sdkExecutable('cli'), ip: '127.0.0.1', searchAttributes: searchAttributeKeys },
  });
  return (await ownServer).address;
}

/** Connections to the dev server; close() closes them (the server stays for other tests). */
export async function devTemporal(): Promise<DevTemporal> {
  const address = await devServerAddress();
  const namespace = 'default';
  const connection = await Connection.connect({ address });
  const nativeConnection = await NativeConnection.connect({ address });
  return {
    address,
    namespace,
    connection,
    nativeConnection,
    client: new Client({ connection, namespace }),
    async close() {
      await nativeConnection.close();
      await connection.close();
    },
  };
}

const indexedValueType: Record<string, temporal.api.enums.v1.IndexedValueType> = {
  KEYWORD: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  KEYWORD_LIST: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST,
  TEXT: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_TEXT,
  INT: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_INT,
  DOUBLE: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_DOUBLE,
  BOOL: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_BOOL,
  DATETIME: temporal.api.enums.v1.IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
};

/** A fresh time-skipping server with Keyship's search attributes; call teardown() when done. */
export async function timeSkipping(): Promise<TestWorkflowEnvironment> {
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: sdkExecutable('testServer') },
  });
  await env.connection.operatorService.addSearchAttributes({
    namespace: env.namespace ?? 'default',
    searchAttributes: Object.fromEntries(searchAttributeKeys.map((key) => [key.name, indexedValueType[key.type]!])),
  });
  return env;
}
