/* global window, document, sessionStorage */
// Test stand-in for the webview's acquireVsCodeApi (loaded with the page's nonce before the bundle).
// Posted messages are recorded in window.__posted; state lives in sessionStorage so it survives a
// reload, like VS Code's getState/setState. CSP violations are recorded for the tests to assert on.
(() => {
  const STATE_KEY = 'dora-studio-test-state';
  window.__posted = [];
  window.__cspViolations = [];
  document.addEventListener('securitypolicyviolation', (event) => {
    window.__cspViolations.push(
      `${event.violatedDirective} blocked ${event.blockedURI || 'inline'} at ${event.sourceFile}:${event.lineNumber}:${event.columnNumber} ${event.sample}`,
    );
  });
  let acquired = false;
  window.acquireVsCodeApi = () => {
    if (acquired) throw new Error('acquireVsCodeApi may only be called once');
    acquired = true;
    return {
      postMessage: (message) => window.__posted.push(JSON.parse(JSON.stringify(message))),
      getState: () => {
        const saved = sessionStorage.getItem(STATE_KEY);
        return saved ? JSON.parse(saved) : undefined;
      },
      setState: (state) => {
        sessionStorage.setItem(STATE_KEY, JSON.stringify(state));
        return state;
      },
    };
  };
})();
