package broker

import (
	"errors"
	"fmt"
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
)

// Error is JIT's one error type: a machine-readable code and a message safe
// to show to the user.
type Error struct {
	Code    string
	Message string
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
