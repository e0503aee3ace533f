import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import './styles.css';

// `?bench=1k` opens the schedule benchmark (see screens/Bench.tsx).
if (new URL(location.href).searchParams.has('bench') && !location.hash) location.hash = '#/bench';

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
