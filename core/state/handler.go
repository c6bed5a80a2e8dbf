package state

import (
	"strings"
	"unicode/utf8"

	"github.com/fengqiao/fengqiao/core/access"
	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/model"
)

// actorToken is the token a command's actor names ("token:<id>"), nil for
// the node itself, an embedding program or a token no longer held.
func (t *txn) actorToken(c *Command) (*model.Token, error) {
	id, ok := strings.CutPrefix(c.Actor, "token:")
	if !ok {
		return nil, nil
	}
	var tk model.Token
	if found, err := t.getRecord(BucketToken, []byte(id), &tk); err != nil || !found {
		return nil, err
	}
	return &tk, nil
}

// mayHandle refuses an action by a department_handler on an event not
// dispatched to its department or to itself.
func (t *txn) mayHandle(c *Command, ev *model.Event) error {
	tk, err := t.actorToken(c)
	if err != nil || tk == nil || access.MayHandle(tk, ev) {
		return err
	}
	return errs.Forbidden("handler", "not_dispatched", "event %s is not dispatched to this token or its department; a department handler acts on what is dispatched to it", ev.ID)
}

// checkHandler checks a dispatch's handler identity: a department by name,
// a person by a token that is held, may act, and covers the event, or a
// child jurisdiction this one is linked to.
func (t *txn) checkHandler(ev *model.Event, handler string) error {
	if dept, ok := strings.CutPrefix(handler, "dept:"); ok {
		if n := utf8.RuneCountInString(strings.TrimSpace(dept)); n == 0 || n > model.MaxDepartment || !utf8.ValidString(dept) {
			return errs.Invalid("handler", "department", "a department is named in 1..%d characters", model.MaxDepartment)
		}
		return nil
	}
	id, ok := strings.CutPrefix(handler, "token:")
	if !ok {
		if t.childLink(handler) != nil {
			return nil // 交办 to a child jurisdiction
		}
		return errs.Invalid("handler", "identity", "a handler is dept:<department>, token:<token id> or a linked child jurisdiction's code")
	}
	var tk model.Token
	found, err := t.getRecord(BucketToken, []byte(id), &tk)
	switch {
	case err != nil:
		return err
	case !found || tk.Revoked || tk.Expired(t.cmd.At) || !IsUnder(ev.Place(), tk.Scope):
		return errs.NotFound("handler", "token %s not found", id)
	case !access.Allows(tk.Role, access.Act):
		return errs.Invalid("handler", "may_not_act", "token %s is a %s, who does not act on events", id, tk.Role)
	}
	return nil
}
