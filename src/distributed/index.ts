/**
 * Distributed predict through BullMQ on Redis: the coordinator
 * (predictDistributed) and the worker (startWorker). BullMQ and ioredis are
 * loaded on first use, so importing this costs nothing of Redis.
 */
export { predictDistributed, type PredictDistributedOptions, type DistributedSummary, type FailedShard } from './coordinator.ts';
export { startWorker, type StartWorkerOptions, type WorkerHandle } from './worker.ts';
export { RedisUnreachableError, type RedisConnection, type RedisConnectionOptions } from './connection.ts';
export type { ShardBy, ShardSpec } from './shards.ts';
