import type { SiteCheck } from '../../ports/availability.ts';

const SITE_CHECK_TIMEOUT_MS = 3_000;

/**
 * Whether a production site answers as a visitor would find it: a GET of its URL that ends in a
 * 2xx with its whole body read, within 3 s. The community's "is KEVIN up" and the availability
 * samples both mean this, so they cannot disagree about what "up" is.
 */
export function httpSiteCheck(fetchImpl: typeof fetch = fetch): SiteCheck {
  return async (url, signal) => {
    const timeout = AbortSignal.timeout(SITE_CHECK_TIMEOUT_MS);
    try {
      const response = await fetchImpl(url, {
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
        headers: { 'user-agent': 'kevin-deploy-status' },
      });
      // Read to the end: a site that sends its headers and then stalls is not answering.
      await response.arrayBuffer();
      return response.ok;
    } catch {
      return false;
    }
  };
}
