// Test-only environment overrides of the extension host. Pure: no vscode.

/**
 * Test hooks, read from the environment of the extension host (code-server passes its own to it):
 * DORA_STUDIO_MAX_STEPS caps every run (integration tests finish a demo run in seconds),
 * DORA_STUDIO_DEMO_SECONDS shortens the generated demo video.
 */
export function testOverrides(env: NodeJS.ProcessEnv = process.env): { maxSteps?: number; demoSeconds?: number } {
  const positiveInt = (v: string | undefined) => (v && /^\d+$/.test(v) && Number(v) > 0 ? Number(v) : undefined);
  return { maxSteps: positiveInt(env.DORA_STUDIO_MAX_STEPS), demoSeconds: positiveInt(env.DORA_STUDIO_DEMO_SECONDS) };
}
