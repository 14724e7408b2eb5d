/* clock.h — the monotonic clock, in seconds, for timing epochs, runs and searches. */
#ifndef NNX_RT_CLOCK_H
#define NNX_RT_CLOCK_H

/* Seconds on CLOCK_MONOTONIC: only differences mean anything. */
double nnx_clock_seconds(void);

#endif
