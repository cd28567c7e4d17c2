/*
 * track-input.c: the names of the tracker's inputs, and the calls that wrap
 * one input: the player state before the start, and the clicks (the
 * ClickThrough or IconClickThrough to open, its macros expanded).
 */
#include "vastrack/track.h"

#include <string.h>
#include <strings.h>

#include "track/track-engine.h"

/* ------------------------------------------------------------------------ */
/* Names                                                                     */

static const char *const input_names[VAST_IN__COUNT] = {
    [VAST_IN_LOADED] = "loaded",
    [VAST_IN_IMPRESSION] = "impression",
    [VAST_IN_TIME] = "time",
    [VAST_IN_DURATION] = "duration",
    [VAST_IN_PAUSE] = "pause",
    [VAST_IN_RESUME] = "resume",
    [VAST_IN_MUTE] = "mute",
    [VAST_IN_UNMUTE] = "unmute",
    [VAST_IN_SEEK] = "seek",
    [VAST_IN_SKIP] = "skip",
    [VAST_IN_PLAYER_EXPAND] = "playerExpand",
    [VAST_IN_PLAYER_COLLAPSE] = "playerCollapse",
    [VAST_IN_CLICK] = "click",
    [VAST_IN_CLOSE] = "close",
    [VAST_IN_ENDED] = "ended",
    [VAST_IN_ERROR] = "error",
    [VAST_IN_NOT_USED] = "notUsed",
    [VAST_IN_CREATIVE_VIEW] = "creativeView",
    [VAST_IN_INTERACTIVE_START] = "interactiveStart",
    [VAST_IN_OTHER_AD_INTERACTION] = "otherAdInteraction",
    [VAST_IN_ACCEPT_INVITATION] = "acceptInvitation",
    [VAST_IN_AD_EXPAND] = "adExpand",
    [VAST_IN_AD_COLLAPSE] = "adCollapse",
    [VAST_IN_MINIMIZE] = "minimize",
    [VAST_IN_OVERLAY_VIEW_DURATION] = "overlayViewDuration",
    [VAST_IN_VIEWABLE] = "viewable",
    [VAST_IN_NOT_VIEWABLE] = "notViewable",
    [VAST_IN_VIEW_UNDETERMINED] = "viewUndetermined",
    [VAST_IN_VERIFICATION_NOT_EXECUTED] = "verificationNotExecuted",
    [VAST_IN_ICON_VIEW] = "iconView",
    [VAST_IN_ICON_CLICK] = "iconClick",
    [VAST_IN_CUSTOM_CLICK] = "customClick",
};

const char *vast_input_name(vast_input_kind k) {
  return k > 0 && k < VAST_IN__COUNT && input_names[k] ? input_names[k] : "";
}

vast_input_kind vast_input_from_name(const char *name) {
  if (!name) return 0;
  for (int k = 1; k < VAST_IN__COUNT; k++)
    if (input_names[k] && !strcasecmp(name, input_names[k])) return (vast_input_kind)k;
  return 0;
}

/* ------------------------------------------------------------------------ */
/* Inputs                                                                    */

vast_err vast_tracker_set_player_state(vast_tracker *t, unsigned player_state) {
  if (!t || (player_state & ~(VAST_PLAYER_MUTED | VAST_PLAYER_FULLSCREEN))) return VAST_E_INVAL;
  if (t->state & (ST_STARTED | ST_TERMINAL)) return VAST_E_STATE;
  t->state &= ~(uint32_t)(ST_MUTED | ST_EXPANDED);
  if (player_state & VAST_PLAYER_MUTED) t->state |= ST_MUTED;
  if (player_state & VAST_PLAYER_FULLSCREEN) t->state |= ST_EXPANDED;
  return VAST_OK;
}

vast_err vast_tracker_icon_click(vast_tracker *t, double wall, double media, int icon,
                                 const char *click_pos, char *out, size_t cap, size_t *out_len) {
  if (out_len) *out_len = 0;
  if (cap && out) out[0] = 0;
  vast_input in = {VAST_IN_ICON_CLICK, wall, media, 0, 0, NULL, click_pos, icon};
  vast_err rc = vast_tracker_feed(t, &in);
  if (rc != VAST_OK && rc != VAST_E_NOMEM) return rc;
  if (icon < 0 || (size_t)icon >= t->plan->n_icons) return VAST_E_INVAL;
  const char *ct = t->plan->icons[icon].click_through;
  if (!ct || !out || !cap) return rc;
  vast_macro_vars v;
  vast__tracker_fill_vars(t, &v, wall);
  v.click_pos = click_pos;
  vast_err e = vast_macro_expand(ct, strlen(ct), t->ctx, &v, out, cap, out_len);
  return rc ? rc : e;
}

vast_err vast_tracker_click(vast_tracker *t, double wall, double media, const char *click_pos,
                            char *out, size_t cap, size_t *out_len) {
  if (out_len) *out_len = 0;
  if (cap && out) out[0] = 0;
  vast_input in = {VAST_IN_CLICK, wall, media, 0, 0, NULL, click_pos, 0};
  vast_err rc = vast_tracker_feed(t, &in);
  if (rc != VAST_OK && rc != VAST_E_NOMEM) return rc;
  const char *ct = t->plan->click_through;
  if (!ct || !out || !cap) return rc;
  vast_macro_vars v;
  vast__tracker_fill_vars(t, &v, wall);
  v.click_pos = click_pos;
  vast_err e = vast_macro_expand(ct, strlen(ct), t->ctx, &v, out, cap, out_len);
  return rc ? rc : e;
}
