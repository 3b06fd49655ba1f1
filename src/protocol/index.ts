export * from './codec.js';
export * from './define.js';
export * from './envelope.js';
export * from './errors.js';
export * from './ops/index.js';
export * from './schemas.js';
