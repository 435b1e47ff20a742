// Types for the undici module imported by path in undici.ts; the value
// is cast to undici's own public type there.
declare module 'undici/lib/dispatcher/agent.js' {
  const Agent: unknown;
  export default Agent;
}
