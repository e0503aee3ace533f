// Background errors from the node (peers dropped for bad data, storage trouble): listed with
// their codes. Clearing empties the list; the header keeps counting.
import { formatAgo } from '../lib/time';
import { useApp } from '../node/NodeContext';
import { useNow } from '../hooks/useNow';

export function ErrorLog() {
  const { errors, errorCount, clearErrors } = useApp();
  const now = useNow(5000);
  return (
    <section className="card" aria-labelledby="errors-title" data-testid="error-log">
      <h2 id="errors-title">
        Background errors <span className="count" data-testid="error-log-count">{errorCount}</span>
      </h2>
      {errors.length === 0 ? (
        <p className="muted">None{errorCount > 0 ? ' since you cleared the list' : ''}.</p>
      ) : (
        <>
          <ul className="plain">
            {errors.map((e, i) => (
              <li key={`${e.at}-${i}`} className="error-item" data-testid="error-item" data-code={e.code}>
                <code>{e.code}</code> {e.message} <span className="muted small">{formatAgo(e.at, now)}</span>
              </li>
            ))}
          </ul>
          <button type="button" onClick={clearErrors} data-testid="error-log-clear">
            Clear list
          </button>
        </>
      )}
    </section>
  );
}
