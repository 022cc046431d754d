import { describe, expect, it } from 'vitest';
import { useBackend } from '../src/backend/load.js';
import { KRONECKER_DEVICE_ROUTES, runKroneckerDevice } from '../src/bench/kronecker-device.js';

/** `npm run bench -- --kronecker-device` on a tiny MLP, one round: every route of each method printed and recorded (no timing asserted). */

let unavailable = '';
try {
  await useBackend('webgpu');
} catch (err) {
  unavailable = (err as Error).message;
  console.log(`bench --kronecker-device test skipped: ${unavailable}`);
}

describe.skipIf(unavailable !== '')('bench --kronecker-device', () => {
  it('times the host route and both device designs of kflr and kfac on a 5-6-3 MLP, with transfers per iteration', async () => {
    const lines: string[] = [];
    const result = await runKroneckerDevice({ layers: [5, 6, 3], batch: 4, inverseEvery: 2, rounds: 1, iterations: 2, onLine: (line) => lines.push(line) });
    expect(lines[0]).toMatch(/^webgpu: .+; load /);
    expect(result.network).toEqual({ layers: [5, 6, 3], parameters: 6 * 6 + 7 * 3, batch: 4, inverseEvery: 2, rounds: 1, iterations: 2 });
    for (const method of ['kflr', 'kfac']) {
      const { device, routes } = result.methods[method];
      expect(device).toBe('inverses');
      for (const route of KRONECKER_DEVICE_ROUTES) {
        expect(lines.some((l) => l.startsWith(`${method.padEnd(5)} ${route}`) && /µs\/iter .* uploads [\d.]+ \(\d+(\.\d+)? B\), reads/.test(l)), `${method} ${route}`).toBe(true);
        expect(routes[route]?.rounds).toHaveLength(1);
      }
      // The host route reads the factors and the gradient back and uploads the direction; the device route does neither.
      const [host, inverses] = [routes.host?.transfers, routes.inverses?.transfers];
      expect(host?.readBytes).toBeGreaterThan(4 * result.network.parameters);
      expect(inverses?.readBytes).toBeLessThan(4 * result.network.parameters);
      expect(host?.uploadBytes).toBeGreaterThan(inverses?.uploadBytes ?? Infinity);
    }
    expect(lines.filter((l) => l.includes('(device)'))).toHaveLength(2);
  });

  it('refuses a method that is not Kronecker-factored and a bad size', async () => {
    await expect(runKroneckerDevice({ layers: [5, 6, 3], methods: ['backprop'] })).rejects.toThrow(/--methods backprop/);
    await expect(runKroneckerDevice({ layers: [5, 6, 3], rounds: 0 })).rejects.toThrow(/--rounds 0/);
  });
});
