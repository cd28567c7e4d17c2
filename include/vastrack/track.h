/* vastrack/track.h: placeholder until the track module lands. */
#ifndef VASTRACK_TRACK_H
#define VASTRACK_TRACK_H
#include "base.h"
#endif
