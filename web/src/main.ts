import { mount } from 'svelte';
import './app.css';
import App from './App.svelte';
import { keepFocusAcrossRedraws } from './lib/focus';
import { locale } from './lib/i18n/index.svelte';

document.documentElement.lang = locale.current;

const target = document.getElementById('app');
if (!target) throw new Error('no #app element');

keepFocusAcrossRedraws(target);

export default mount(App, { target });
