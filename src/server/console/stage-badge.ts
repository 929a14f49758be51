import { stageLabel } from '../../domain/stage-words.ts';
import type { Stage } from '../../domain/stages.ts';
import { html, type SafeHtml } from './html.ts';

const GOOD: readonly Stage[] = ['succeeded'];
const BAD: readonly Stage[] = ['failed', 'rolled_back', 'needs_attention', 'rolling_back'];
const WAITING: readonly Stage[] = ['awaiting_approval', 'requested'];

/** A stage as a small label whose colour says good, bad or waiting — and whose words say it too. */
export function stageBadge(stage: Stage): SafeHtml {
  const tone = GOOD.includes(stage) ? ' good' : BAD.includes(stage) ? ' bad' : WAITING.includes(stage) ? ' wait' : '';
  return html`<span class="stage${tone}">${stageLabel(stage)}</span>`;
}
