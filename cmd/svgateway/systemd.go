package main

// systemd's readiness protocol (sd_notify): with Type=notify in the unit,
// systemd considers the gateway started when it says READY=1 (its listeners
// are bound), shows its STATUS= line in `systemctl status`, and knows a
// stop or a reload is under way (STOPPING=1, RELOADING=1). Outside systemd
// (no NOTIFY_SOCKET) every call does nothing.

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"
	"golang.org/x/sys/unix"
)

// sdNotify sends state lines to systemd, if it is listening.
func sdNotify(log *slog.Logger, state string) {
	if _, err := daemon.SdNotify(false, state); err != nil {
		log.Warn("sd_notify failed", "state", state, "err", err)
	}
}

// monotonicUsec is CLOCK_MONOTONIC in microseconds, which systemd wants with
// RELOADING=1 (Type=notify-reload; harmless with Type=notify).
func monotonicUsec() int64 {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		return 0
	}
	return ts.Nano() / int64(time.Microsecond)
}

// runNotifying runs the services (runServices) and tells systemd READY=1
// once every listener is bound, and STOPPING=1 as soon as a stop begins
// (a signal, or a service failed).
func runNotifying(ctx context.Context, log *slog.Logger, services []namedService) error {
	var stopping sync.Once
	notifyStop := func() { stopping.Do(func() { sdNotify(log, daemon.SdNotifyStopping+"\nSTATUS=stopping") }) }
	stop := context.AfterFunc(ctx, notifyStop)
	defer stop()
	err := runServices(ctx, log, services, func() {
		log.Info("svgateway ready: listeners bound", "services", len(services))
		sdNotify(log, fmt.Sprintf("%s\nSTATUS=serving (%d services)", daemon.SdNotifyReady, len(services)))
	})
	notifyStop()
	return err
}
