package broker

import (
	"errors"
	"fmt"
	"time"
)

// Error codes. Every error a user sees carries one of these; an error without
// a code is internal and is shown only as "internal error".
const (
	EINVALID         = "invalid"
	ENOTFOUND        = "not_found"
	EFORBIDDEN       = "forbidden"
	ECONFLICT        = "conflict"
	EUNAUTHENTICATED = "unauthenticated"
	ETOOLARGE        = "too_large"
	EUNAVAILABLE     = "unavailable"
	EINTERNAL        = "internal"
	// EDUPLICATE: a beneficiary already holds or waits for a ticket for the
	// same account and permission set in an overlapping window
	// (Error.TicketID names it).
	EDUPLICATE = "duplicate_ticket"
	// ETOOMANY: a beneficiary has as many open tickets as the registry's
	// limits allow.
	ETOOMANY = "too_many_tickets"
	// ESTEPUP: the decision needs a more recent (or stronger) sign-in
	// (Error.MaxAge says how recent); sign in again at the identity
	// provider and retry.
	ESTEPUP = "step_up_required"
)

// Error is JIT's one error type: a machine-readable code and a message safe
// to show to the user.
type Error struct {
	Code    string
	Message string
	// TicketID names the other ticket of an EDUPLICATE error.
	TicketID string
	// MaxAge is, for ESTEPUP, how recent the sign-in must be.
	MaxAge time.Duration
}

// Error implements the error interface.
func (e *Error) Error() string { return fmt.Sprintf("%s: %s", e.Code, e.Message) }

// Errorf returns an *Error with the given code and formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL
// for any other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the message of the first *Error in err's chain, or
// "internal error" for any other non-nil error, so internal details never
// reach users.
func ErrorMessage(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}
