package core

import (
	"sync"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/fengqiao/fengqiao/core/access"
	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/model"
)

// Administrators prove a second factor (等保 2.0 level 3 two-factor
// authentication of administrators): a TOTP code (RFC 6238: 6 digits,
// 30-second steps, SHA-1, as every authenticator app speaks) enrolled when
// the token is issued. The TOTP secret is sealed with the sealing keys, so a
// copy of the state opens nothing, and the token's holder sees it once.

// Errors of the second factor. Both wrap ErrSecondFactor.
var (
	// ErrSecondFactor marks a second factor that is missing or wrong.
	ErrSecondFactor = errs.Forbidden("otp", "second_factor", "this token's role needs a second factor")
	// ErrOTPRequired: no code was sent.
	ErrOTPRequired = &errs.FieldError{Kind: ErrSecondFactor, Field: "otp", Rule: "required", Msg: "an administrator's token needs a TOTP code from its authenticator (header X-Fengqiao-OTP)"}
	// ErrOTPInvalid: the code is malformed, wrong, expired or older than one
	// already accepted for this token.
	ErrOTPInvalid = &errs.FieldError{Kind: ErrSecondFactor, Field: "otp", Rule: "invalid", Msg: "the TOTP code is not valid now"}
	// ErrNotEnrolled: the token was issued without a second factor (in
	// development mode) and cannot serve where one is required.
	ErrNotEnrolled = &errs.FieldError{Kind: ErrSecondFactor, Field: "otp", Rule: "not_enrolled", Msg: "this administrator's token has no second factor enrolled; issue a new one"}
)

// Enrollment is a new token's TOTP secret, shown once: the base32 secret
// and the otpauth:// URL an authenticator app scans.
type Enrollment struct {
	Secret string `json:"totp_secret"`
	URL    string `json:"totp_url"`
}

const (
	otpPeriod = 30
	otpDigits = 6
)

var otpOpts = totp.ValidateOpts{Period: otpPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

// enroll makes a TOTP secret for an administrator's token, or takes the one
// given (a bootstrap token's, from its operator), and seals it.
func (ts *Tokens) enroll(tk *model.Token, given string) (*Enrollment, error) {
	var secret, url string
	if given != "" {
		// The operator's own secret: check it decodes before it is sealed.
		if _, err := totp.GenerateCodeCustom(given, time.Now(), otpOpts); err != nil || len(given) < 16 {
			return nil, errs.Invalid("totp_secret", "format", "a TOTP secret is base32, at least 16 characters")
		}
		secret = given
	} else {
		key, err := totp.Generate(totp.GenerateOpts{Issuer: "Fengqiao " + tk.Scope, AccountName: tk.Name + " (" + tk.Role + ")",
			Period: otpPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
		if err != nil {
			return nil, err
		}
		secret, url = key.Secret(), key.URL()
	}
	sealed, err := ts.s.keyring().Seal([]byte(secret), "token/"+tk.ID+"/totp")
	if err != nil {
		return nil, err
	}
	tk.TOTPSealed = sealed
	return &Enrollment{Secret: secret, URL: url}, nil
}

// otpSeen keeps, per token, the latest time step a code was accepted for:
// a code may serve several requests within its step (a CLI's pages), never
// one from before a later accepted code. Per node, in memory.
type otpSeen struct {
	mu   sync.Mutex
	last map[string]uint64
}

// CheckSecondFactor verifies code against the token's enrolled TOTP
// secret at the store's time. Tokens of roles that need none pass.
func (ts *Tokens) CheckSecondFactor(tk *model.Token, code string) error {
	if !access.Admin(tk.Role) {
		return nil
	}
	if tk.TOTPSealed == "" {
		return ErrNotEnrolled
	}
	if code == "" {
		return ErrOTPRequired
	}
	if len(code) != otpDigits || !digits(code) {
		return ErrOTPInvalid
	}
	secret, err := ts.s.keyring().Open(tk.TOTPSealed, "token/"+tk.ID+"/totp")
	if err != nil {
		return err
	}
	now := ts.s.clock()
	step := uint64(now.Unix()) / otpPeriod
	// The step before and after are accepted too, for clocks a little apart.
	for _, s := range []uint64{step, step - 1, step + 1} {
		want, err := totp.GenerateCodeCustom(string(secret), time.Unix(int64(s*otpPeriod), 0), otpOpts)
		if err != nil {
			return err
		}
		if want != code {
			continue
		}
		seen := &ts.s.otp
		seen.mu.Lock()
		defer seen.mu.Unlock()
		if s < seen.last[tk.ID] {
			return ErrOTPInvalid // older than one already used
		}
		if seen.last == nil {
			seen.last = map[string]uint64{}
		}
		seen.last[tk.ID] = s
		return nil
	}
	return ErrOTPInvalid
}

func digits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
