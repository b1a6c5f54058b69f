// grpc-js side of scripts/bench-grpc: sequential unary and streaming calls, latency per call.
// Usage: node grpc-bench.mjs <port> <unary-calls> <streams>
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import grpc from '@grpc/grpc-js';
import protoLoader from '@grpc/proto-loader';

const [, , port, unaryArg = '2000', streamsArg = '500'] = process.argv;
const protos = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'protos');
const definition = protoLoader.loadSync('compute/v1/compute.proto', { keepCase: true, defaults: true, includeDirs: [protos] });
const compute = grpc.loadPackageDefinition(definition).compute.v1;
const client = new compute.ComputeService(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
const request = { model: 'sim', prompt: 'hi' };

const unary = () => new Promise((resolve, reject) => client.Generate(request, (err, res) => (err ? reject(err) : resolve(res))));
const stream = () => new Promise((resolve, reject) => {
  const call = client.GenerateStream(request);
  call.on('data', () => {});
  call.on('end', resolve);
  call.on('error', reject);
});

async function measure(n, op) {
  for (let i = 0; i < Math.min(200, n); i++) await op();
  const samples = [];
  for (let i = 0; i < n; i++) {
    const start = process.hrtime.bigint();
    await op();
    samples.push(Number(process.hrtime.bigint() - start) / 1000);
  }
  samples.sort((a, b) => a - b);
  const mean = samples.reduce((a, b) => a + b, 0) / n;
  return { mean, p50: samples[Math.floor(n / 2)], p99: samples[Math.floor(n * 0.99)] };
}

const print = (name, r) => console.log(`${name.padEnd(46)} mean ${r.mean.toFixed(1).padStart(9)} µs   p50 ${r.p50.toFixed(1).padStart(9)} µs   p99 ${r.p99.toFixed(1).padStart(9)} µs`);
print('unary   gRPC Generate (@grpc/grpc-js)', await measure(Number(unaryArg), unary));
print('stream  gRPC GenerateStream (@grpc/grpc-js)', await measure(Number(streamsArg), stream));
client.close();
