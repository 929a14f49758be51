import { html, type SafeHtml } from '../html.ts';

/** Sign in with an API token: the same tokens, actors and roles as the API and the CLI. */
export function signInPage(next: string): SafeHtml {
  return html`<h1>Sign in to kevin-deploy</h1>
<form method="post" action="/console/sign-in">
<input type="hidden" name="next" value="${next}">
<label for="token">API token</label>
<input type="password" id="token" name="token" required autocomplete="current-password" spellcheck="false">
<p class="hint">The token you give the CLI ($KEVIN_DEPLOY_API_TOKEN, or one of the configuration's apiTokens). In the sandbox, <code>npm start</code> printed where it is.</p>
<div class="actions"><button type="submit" class="primary">Sign in</button></div>
</form>`;
}
