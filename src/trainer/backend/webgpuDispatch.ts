// Raw compute dispatches on tfjs-backend-webgpu's device, in its command stream. tfjs programs have one output and
// read-only inputs; the fused kernels need several outputs and in-place updates, so they bind buffers themselves:
// same encoder, same deferred-submit batching and the same pending-disposal bookkeeping as tfjs' own programs
// (tfjs-backend-webgpu 4.22.0 internals, pinned in package.json; test/backend/fusedKernels.test.ts covers them).
import * as tf from '@tensorflow/tfjs';

export interface WebGpuBackendInternals {
  device: GPUDevice;
  tensorMap: { get(dataId: tf.DataId): { resource: unknown; refCount: number } };
  bufferManager: { acquireBuffer(size: number, usage: number): GPUBuffer };
  commandEncoder: GPUCommandEncoder | null;
  computePassEncoder: GPUComputePassEncoder | null;
  commandQueueOwnedIds: WeakSet<tf.DataId>;
  uniformPendingDisposal: GPUBuffer[];
  dispatchCountInPass: number;
  makeTensorInfo(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  uploadToGPU(dataId: tf.DataId): void;
  ensureCommandEncoderReady(): void;
  endComputePassEncoder(): void;
  submitQueue(): void;
  disposeData(dataId: tf.DataId): boolean;
  recordAndSubmit(...args: unknown[]): void;
}

export interface DispatchSpec {
  /** Cache key of the pipeline (the WGSL text is only compiled once per key). */
  key: string;
  wgsl: () => string;
  /** Storage buffers in binding order 0…n−1; the uniform block is binding n. */
  buffers: tf.TensorInfo[];
  /** The uniform block's bytes (padded to 16 here). */
  uniforms: ArrayBuffer;
  workgroups: [number, number, number];
}

const pipelines = new WeakMap<GPUDevice, Map<string, GPUComputePipeline>>();
let dispatches = 0;

/** GPU dispatches recorded so far: tfjs' programs plus these raw ones (for `dora bench --profile`). */
export function webGpuDispatchCount(): number {
  return dispatches;
}

/** Counts tfjs' own program dispatches too (idempotent per backend). */
export function countTfjsDispatches(backend: WebGpuBackendInternals): void {
  const marked = backend as unknown as { __doraCounted?: boolean };
  if (marked.__doraCounted) return;
  marked.__doraCounted = true;
  const record = backend.recordAndSubmit.bind(backend);
  backend.recordAndSubmit = (...args: unknown[]) => {
    dispatches++;
    record(...args);
  };
}

function pipelineFor(device: GPUDevice, spec: DispatchSpec): GPUComputePipeline {
  let cache = pipelines.get(device);
  if (!cache) pipelines.set(device, (cache = new Map()));
  let pipeline = cache.get(spec.key);
  if (!pipeline) {
    const module = device.createShaderModule({ code: spec.wgsl(), label: spec.key });
    pipeline = device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' }, label: spec.key });
    cache.set(spec.key, pipeline);
  }
  return pipeline;
}

export function backendInternals(backend: unknown): WebGpuBackendInternals {
  return backend as WebGpuBackendInternals;
}

/** A new float32 tensor with its GPU buffer allocated (uninitialised). */
export function newOutput(b: WebGpuBackendInternals, shape: number[]): tf.TensorInfo {
  const t = b.makeTensorInfo(shape, 'float32');
  b.uploadToGPU(t.dataId);
  return t;
}

export function dispatch(b: WebGpuBackendInternals, spec: DispatchSpec): void {
  const pipeline = pipelineFor(b.device, spec);
  for (const t of spec.buffers) b.uploadToGPU(t.dataId);
  const size = Math.max(16, Math.ceil(spec.uniforms.byteLength / 16) * 16);
  const uniform = b.bufferManager.acquireBuffer(size, GPUBufferUsage.COPY_DST | GPUBufferUsage.UNIFORM);
  const padded = new Uint8Array(size);
  padded.set(new Uint8Array(spec.uniforms));
  b.device.queue.writeBuffer(uniform, 0, padded);
  b.uniformPendingDisposal.push(uniform);
  const entries: GPUBindGroupEntry[] = spec.buffers.map((t, i) => ({
    binding: i,
    resource: { buffer: b.tensorMap.get(t.dataId).resource as GPUBuffer },
  }));
  entries.push({ binding: spec.buffers.length, resource: { buffer: uniform } });
  const bindGroup = b.device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries });
  b.ensureCommandEncoderReady();
  if (!b.computePassEncoder) b.computePassEncoder = b.commandEncoder!.beginComputePass({});
  b.computePassEncoder.setPipeline(pipeline);
  b.computePassEncoder.setBindGroup(0, bindGroup);
  b.computePassEncoder.dispatchWorkgroups(...spec.workgroups);
  for (const t of spec.buffers) b.commandQueueOwnedIds.add(t.dataId);
  dispatches++;
  b.dispatchCountInPass++;
  if (tf.env().getNumber('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE') <= b.dispatchCountInPass) {
    b.endComputePassEncoder();
    b.submitQueue();
  }
}

/** Workgroup grid for `count` workgroups: x ≤ 65535 (the WebGPU default limit per dimension), y as needed. */
export function grid(count: number): [number, number, number] {
  if (count <= 65535) return [Math.max(1, count), 1, 1];
  const x = 32768;
  return [x, Math.ceil(count / x), 1];
}

/** Packs uniforms: 'u' = u32, 'f' = f32. */
export function uniforms(values: ['u' | 'f', number][]): ArrayBuffer {
  const buffer = new ArrayBuffer(values.length * 4);
  const view = new DataView(buffer);
  values.forEach(([kind, v], i) => (kind === 'u' ? view.setUint32(i * 4, v, true) : view.setFloat32(i * 4, v, true)));
  return buffer;
}
