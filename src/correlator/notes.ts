import { z } from 'zod';
import { amendIncident, type AmendDeps, type Amendment } from './amend.ts';
import { extendTimeline, NOTE_CHARS, NOTES_LIMIT, type Incident, type IncidentNote } from './incident.ts';

/** A note's text as operators may give it: trimmed, not empty, at most NOTE_CHARS. */
export const noteText = z
  .string()
  .trim()
  .min(1, 'a note needs some text')
  .max(NOTE_CHARS, `a note is at most ${NOTE_CHARS} characters`);

/** How much of a note its timeline entry repeats. */
const TIMELINE_CHARS = 200;

/**
 * Writes a note on an incident, in its `notes` and its timeline, published on `faultline.incidents.<id>.noted`.
 * With `tell`, the leader sends it to every team that heard of the incident (plan.ts), once; a resolved incident
 * takes notes (a post-mortem's link) but tells nobody any more.
 */
export async function addNote(deps: AmendDeps, id: string, by: string, text: string, tell: boolean): Promise<Amendment<'resolved'>> {
  const result = await amendIncident(deps, id, 'noted', (current, now): Incident | 'resolved' => {
    if (tell && current.status === 'resolved') return 'resolved';
    const notes = current.notes ?? [];
    const note: IncidentNote = { n: (notes.at(-1)?.n ?? 0) + 1, at: now, by, text, tell };
    const shown = text.length > TIMELINE_CHARS ? `${text.slice(0, TIMELINE_CHARS - 1)}…` : text;
    return {
      ...current,
      notes: [...notes, note].slice(-NOTES_LIMIT),
      updatedAt: now,
      timeline: extendTimeline(current.timeline, { at: now, change: 'noted', text: `note by ${by}: ${shown}` }),
    };
  });
  if (result.outcome === 'stored') deps.log.info({ incident: id, by, tell }, 'note written on the incident');
  return result;
}

/** The notes of an incident its teams are still to hear. */
export const notesToTell = (incident: Incident): IncidentNote[] => (incident.notes ?? []).filter((n) => n.tell && !n.told);
