/*
 * track/track-int.h: what the tracking module shares with the modules above it
 * (lib/breaks) beyond vastrack/track.h.
 */
#ifndef VASTRACK_TRACK_INT_H
#define VASTRACK_TRACK_INT_H

#include "vastrack/track.h"
#include "vastrack/chain.h"

/*
 * vast__select_ad: fills *sel for `ad` reached through chain[0..n_chain) (the
 * Wrapper levels then the InLine; NULL and 1 for a stand-alone document's ad),
 * n_playable the number of playable ads it is picked among. lib/track/pick.c.
 */
vast_err vast__select_ad(vast_selection *sel, const vast_ad *const *chain, size_t n_chain,
                         const vast_ad *ad, size_t n_playable);

#endif
