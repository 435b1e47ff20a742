// Types for the two undici modules imported by path in undici-core.ts; the
// values are cast to undici's own public types there.
declare module 'undici/lib/dispatcher/agent.js' {
  const Agent: unknown;
  export default Agent;
}
declare module 'undici/lib/api/api-request.js' {
  const request: unknown;
  export default request;
}
