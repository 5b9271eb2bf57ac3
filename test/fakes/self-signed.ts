// Moved to src/demo/ (the demo's incident runs them too); tests keep importing from here.
export * from '../../src/demo/self-signed.js';
