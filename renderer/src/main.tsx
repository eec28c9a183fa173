import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app.js';
import { connectDesk } from './contract/desk-client.js';
import { DeskProvider } from './desk-context.js';
import './styles.css';

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <DeskProvider desk={connectDesk()}>
      <App />
    </DeskProvider>
  </StrictMode>,
);
