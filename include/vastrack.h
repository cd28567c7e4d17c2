/*
 * vastrack.h: the public interface of libvastrack.
 *
 * libvastrack parses VAST 1.0-4.3 and VMAP documents, validates them, resolves
 * wrapper chains, turns playback into the exact tracking beacons the IAB spec
 * requires, fires them, and collects them on the receiving side. Every symbol
 * is prefixed vast_ / VAST_; everything else is hidden.
 *
 * This umbrella header includes the module headers under vastrack/, each of
 * which documents its calls where they are declared.
 */
#ifndef VASTRACK_H
#define VASTRACK_H

#include "vastrack/base.h"
#include "vastrack/doc.h"
#include "vastrack/chain.h"
#include "vastrack/validate.h"
#include "vastrack/track.h"
#include "vastrack/net.h"
#include "vastrack/collect.h"
#include "vastrack/probe.h"
#include "vastrack/breaks.h"
#include "vastrack/certify.h"
#include "vastrack/ssai.h"

#endif
