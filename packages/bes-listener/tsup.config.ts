import { cp } from 'node:fs/promises';
import { defineConfig } from 'tsup';
import { baseConfig } from '../../tsup.base';

export default defineConfig({
  ...baseConfig,
  // The protos travel inside dist/ too, so dist/index.{js,cjs} finds them beside itself.
  onSuccess: async () => {
    await cp('protos', 'dist/protos', { recursive: true });
  },
});
