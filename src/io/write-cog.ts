/** The COG writer's public entry point (implementation in ./cog/). */
export { writeCog, type WriteCogOptions, type BlockSource } from './cog/write-cog.ts';
