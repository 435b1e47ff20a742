import { defineConfig } from 'vitest/config';

// Unit tests only, without the local stack: `npx vitest run -c vitest.unit.config.ts`.
export default defineConfig({ test: { include: ['test/unit/**/*.test.ts'] } });
