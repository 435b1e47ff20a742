/**
 * esbuild plugins of the Lambda bundles, shared by `npm run build`
 * (scripts/build.ts) and serverless-esbuild (serverless.yml
 * `custom.esbuild.plugins`), so both write the same bytes.
 *
 * undici ships its HTTP/1.1 parser (llhttp) twice, as WebAssembly with SIMD
 * and without, about 70 KB each in the bundle. It loads the scalar one only
 * when the SIMD module fails to compile, or when UNDICI_NO_WASM_SIMD=1 (or a
 * Jest worker) asks for it (undici lib/dispatcher/client-h1.js, lazyllhttp).
 * Lambda's x86_64 and arm64 both compile WebAssembly SIMD (V8 supports it on
 * both), so the scalar copy is dead weight there: it is replaced by a module
 * that says why it is missing. That pays for esbuild's keepNames (error class
 * names in Lambda's errorType) within the 420 KB bundle budget.
 *
 * CommonJS because serverless-esbuild `require()`s this file.
 */

'use strict';

const SCALAR_PARSER = /[/\\]llhttp[/\\]llhttp-wasm\.js$|^\.\.\/llhttp\/llhttp-wasm\.js$/;

const undiciSimdOnly = {
  name: 'undici-simd-only',
  setup(build) {
    build.onResolve({ filter: /llhttp-wasm\.js$/ }, (args) =>
      SCALAR_PARSER.test(args.path) && /[/\\]undici[/\\]/.test(args.importer)
        ? { path: 'llhttp-wasm.js', namespace: 'undici-scalar-parser' }
        : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'undici-scalar-parser' }, () => ({
      contents:
        'throw new Error("undici\'s scalar HTTP parser is not in this bundle: it needs WebAssembly SIMD (do not set UNDICI_NO_WASM_SIMD=1)");',
      loader: 'js',
    }));
  },
};

module.exports = [undiciSimdOnly];
