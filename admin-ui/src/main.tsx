/** Entry point of the admin UI bundle: the styles and the app, mounted on #app. */
import { render } from 'preact';
import { App } from './App';
import './styles.css';

const root = document.getElementById('app');
if (root !== null) {
  root.textContent = '';
  render(<App />, root);
}
