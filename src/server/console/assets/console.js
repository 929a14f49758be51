// kevin-deploy console: the only script the pages load (besides uPlot on a release page). Every
// page works without it; it makes them live (server-sent events) and draws the monitoring chart.
'use strict';

(function () {
  // "Approved." belongs to the moment after the click: a live refresh or a reload should not say it again.
  const address = new URL(location.href);
  if (address.searchParams.has('done')) {
    address.searchParams.delete('done');
    history.replaceState(null, '', address.pathname + address.search + address.hash);
  }

  const live = document.body.dataset.live;
  const indicator = document.getElementById('live');

  function say(text, state) {
    if (!indicator) return;
    indicator.textContent = text;
    indicator.className = 'live ' + state;
  }

  function clock() {
    return new Date().toISOString().slice(11, 19) + ' UTC';
  }

  // A person typing in a form must not lose it to a refresh: wait until they leave the field.
  function busy() {
    const active = document.activeElement;
    return Boolean(active && active.closest('main') && active.matches('input, textarea, select'));
  }

  let pending = false;
  let refreshing = false;
  // The page as the server last sent it, less the notice above it ("Approved.", a refusal): a
  // refresh that brings the same page changes nothing — the notice, the focus, the open chart and
  // the scroll position stay as they are.
  function pageOf(main) {
    const copy = main.cloneNode(true);
    for (const notice of copy.querySelectorAll(':scope > .notice')) notice.remove();
    return copy.innerHTML;
  }
  let served = document.querySelector('main') ? pageOf(document.querySelector('main')) : null;
  async function refresh() {
    if (refreshing) {
      pending = true;
      return;
    }
    if (busy()) {
      pending = true;
      say('Changed — updates when you leave the field', 'on');
      return;
    }
    refreshing = true;
    pending = false;
    try {
      const response = await fetch(location.href, { credentials: 'same-origin', headers: { accept: 'text/html' } });
      const arrived = new URL(response.url);
      if (!response.ok || (response.redirected && arrived.pathname === '/console/sign-in')) {
        say('Signed out or unavailable — reload the page', 'off');
        return;
      }
      // A form's answer (a refusal at …/approve) lives on as the page it belongs to.
      if (response.redirected) history.replaceState(null, '', arrived.pathname + arrived.search);
      const next = new DOMParser().parseFromString(await response.text(), 'text/html').querySelector('main');
      const main = document.querySelector('main');
      if (next && main && pageOf(next) !== served) {
        served = pageOf(next);
        // Keep what a person opened (a <details>) open across the update.
        const open = [...main.querySelectorAll('details[open] > summary')].map((s) => s.textContent);
        main.innerHTML = next.innerHTML;
        for (const summary of main.querySelectorAll('details > summary')) {
          if (open.includes(summary.textContent)) summary.parentElement.open = true;
        }
        drawChart();
      }
      say('Live — updated ' + clock(), 'on');
    } catch {
      say('Connection lost — reconnecting…', 'off');
    } finally {
      refreshing = false;
      if (pending && !busy()) setTimeout(refresh, 100);
    }
  }

  document.addEventListener('focusout', () => {
    if (pending) setTimeout(refresh, 50);
  });

  if (live && window.EventSource) {
    const ids = live === '*' ? null : live.split(',');
    let timer;
    let lostAt = null;
    let opened = false;
    const source = new EventSource('/console/events');
    source.addEventListener('open', () => {
      say('Live', 'on');
      // Whatever changed while the connection was down is shown now — and, on the first open,
      // whatever changed between the server rendering this page and the stream starting.
      if (lostAt !== null || !opened) refresh();
      opened = true;
      lostAt = null;
    });
    source.addEventListener('error', () => {
      if (lostAt === null) lostAt = Date.now();
      say('Connection lost — reconnecting…', 'off');
    });
    source.addEventListener('change', (event) => {
      let id;
      try {
        id = JSON.parse(event.data).id;
      } catch {
        return;
      }
      if (ids && !ids.includes(id)) return;
      clearTimeout(timer);
      timer = setTimeout(refresh, 150);
    });
    // The browser knows it is offline before the stream notices (an open stream can linger):
    // say so at once, and catch up as soon as it is back — a refresh that failed meanwhile is
    // retried then, instead of leaving the page stale under "Connection lost".
    window.addEventListener('offline', () => {
      if (lostAt === null) lostAt = Date.now();
      say('Connection lost — reconnecting…', 'off');
    });
    window.addEventListener('online', () => refresh());
    window.addEventListener('pagehide', () => source.close());
  } else if (indicator) {
    say('Not live: reload to update', 'off');
  }

  let plot;
  function drawChart() {
    const holder = document.getElementById('release-chart');
    const data = document.getElementById('release-chart-data');
    if (plot) {
      plot.destroy();
      plot = undefined;
    }
    if (!holder || !data || !window.uPlot) return;
    const chart = JSON.parse(data.textContent);
    const colours = { switch: '#0b57d0', trigger: '#a40e26', rollback: '#a40e26', passed: '#0b6b2b', step: '#6b3fa0', health: '#7a5200' };
    const markersPlugin = {
      hooks: {
        draw: [
          (u) => {
            const ctx = u.ctx;
            const top = u.bbox.top;
            const bottom = top + u.bbox.height;
            ctx.save();
            ctx.font = 12 * devicePixelRatio + 'px system-ui, sans-serif';
            // The limits, dashed, on their own axes.
            ctx.setLineDash([6 * devicePixelRatio, 4 * devicePixelRatio]);
            ctx.lineWidth = devicePixelRatio;
            for (const [value, scale, colour, label] of [
              [chart.thresholds.errorRatePercent, '%', '#a40e26', 'error limit ' + chart.thresholds.errorRatePercent + ' %'],
              [chart.thresholds.latencyMs, 'ms', '#7a5200', 'latency limit ' + chart.thresholds.latencyMs + ' ms'],
            ]) {
              const y = u.valToPos(value, scale, true);
              if (y < top || y > bottom) continue;
              ctx.strokeStyle = colour;
              ctx.beginPath();
              ctx.moveTo(u.bbox.left, y);
              ctx.lineTo(u.bbox.left + u.bbox.width, y);
              ctx.stroke();
              ctx.fillStyle = colour;
              ctx.fillText(label, u.bbox.left + 4, y - 4);
            }
            ctx.setLineDash([]);
            // The moments: switch, canary steps, health failures, the trigger, the window's end.
            let row = 0;
            for (const marker of chart.markers) {
              const x = u.valToPos(marker.at, 'x', true);
              if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) continue;
              ctx.strokeStyle = colours[marker.kind] || '#1a1a1a';
              ctx.lineWidth = (marker.kind === 'trigger' ? 3 : 1.5) * devicePixelRatio;
              ctx.beginPath();
              ctx.moveTo(x, top);
              ctx.lineTo(x, bottom);
              ctx.stroke();
              ctx.fillStyle = colours[marker.kind] || '#1a1a1a';
              ctx.fillText(marker.label, x + 4, top + (12 + 14 * (row++ % 3)) * devicePixelRatio);
            }
            ctx.restore();
          },
        ],
      },
    };
    const series = [
      {},
      { label: 'error rate (%)', scale: '%', stroke: '#a40e26', width: 2, points: { show: true } },
      { label: 'latency (ms)', scale: 'ms', stroke: '#0b57d0', width: 2, points: { show: true } },
    ];
    const columns = [chart.x, chart.errorRate, chart.latency];
    if (chart.blueErrorRate) {
      series.push({ label: "blue's error rate (%)", scale: '%', stroke: '#4a4a4a', dash: [4, 4], width: 1 });
      columns.push(chart.blueErrorRate);
    }
    const errorMax = Math.max(chart.thresholds.errorRatePercent * 1.5, ...chart.errorRate.filter((v) => v !== null));
    const latencyMax = Math.max(chart.thresholds.latencyMs * 1.5, ...chart.latency.filter((v) => v !== null));
    const width = () => Math.max(280, holder.clientWidth);
    const xs = chart.x.concat(chart.markers.map((m) => m.at));
    plot = new window.uPlot(
      {
        width: width(),
        height: 260,
        plugins: [markersPlugin],
        scales: {
          x: { time: true, range: [Math.min(...xs) - 1, Math.max(...xs) + 1] },
          '%': { range: [0, errorMax] },
          ms: { range: [0, latencyMax] },
        },
        axes: [{}, { scale: '%', label: 'error rate %' }, { scale: 'ms', side: 1, label: 'latency ms', grid: { show: false } }],
        series,
      },
      columns,
      holder,
    );
    resizeTo = () => plot && plot.setSize({ width: width(), height: 260 });
  }

  let resizeTo = () => {};
  window.addEventListener('resize', () => resizeTo());

  // uPlot is loaded with `defer` after this script: draw once everything has run.
  window.addEventListener('DOMContentLoaded', drawChart);
})();
