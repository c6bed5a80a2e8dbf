package core

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/model"
)

func TestReporterContactIsSealedAndOpenedForTheCallBack(t *testing.T) {
	e := newEnv(t, false)
	e.withCounty(t)
	ev, err := e.Events.Report(e.ctx, model.Report{Category: "dispute", Description: "噪音", Grid: villageA + "001",
		Phone: "+86 139-1234-5678", ContactTime: "工作日晚上", Email: "zhangsan@example.com", Reporter: "欧阳明月"})
	if err != nil {
		t.Fatal(err)
	}
	if ev.Reporter == "欧阳明月" || ev.Reporter == "" || ev.ReporterSealed == "" {
		t.Fatalf("the reporter's name is stored as %q (sealed %q)", ev.Reporter, ev.ReporterSealed)
	}
	if ev.PhoneMasked != "139****5678" || ev.PhoneSealed == "" || ev.ContactTime != "工作日晚上" || ev.EmailMasked != "z*******@example.com" || ev.EmailSealed == "" {
		t.Fatalf("stored contact: %q %q %q", ev.PhoneMasked, ev.PhoneSealed, ev.ContactTime)
	}
	before, _ := e.Engine().VerifyAudit()
	c, err := e.Events.Contact(e.ctx, ev.ID, model.Purpose{Basis: model.BasisCaseHandling, Text: "回访"})
	if err != nil || c.Reporter != "欧阳明月" || c.Phone != "13912345678" || c.ContactTime != "工作日晚上" || c.Email != "zhangsan@example.com" {
		t.Fatalf("contact: %+v %v", c, err)
	}
	after, _ := e.Engine().VerifyAudit()
	if after.Records != before.Records+1 {
		t.Fatal("opening the phone did not add an audit record")
	}
	// Out of scope reads as missing; a purpose is required.
	refusedUnchanged(t, e, "another township", errs.ErrNotFound, "event", func() error {
		_, err := e.Events.Contact(e.scoped(townB), ev.ID, model.Purpose{Basis: model.BasisVisit, Text: "回访"})
		return err
	})
	refusedUnchanged(t, e, "no purpose", errs.ErrInvalid, "purpose", func() error {
		_, err := e.Events.Contact(e.ctx, ev.ID, model.Purpose{Basis: model.BasisVisit})
		return err
	})
	// Bad input: a malformed number, a caller's own sealed value.
	for _, r := range []model.Report{
		{Category: "dispute", Description: "x", Grid: villageA + "001", Phone: "call me"},
		{Category: "dispute", Description: "x", Grid: villageA + "001", PhoneSealed: "v1:forged"},
		{Category: "dispute", Description: "x", Grid: villageA + "001", ContactTime: string(make([]rune, 51))},
		{Category: "dispute", Description: "x", Grid: villageA + "001", Email: "not an address"},
		{Category: "dispute", Description: "x", Grid: villageA + "001", EmailSealed: "v1:forged"},
		{Category: "dispute", Description: "x", Grid: villageA + "001", ReporterSealed: "v1:forged"},
		{Category: "dispute", Description: "x", Grid: villageA + "001", Reporter: string([]byte{0xff, 0xfe})},
	} {
		refusedUnchanged(t, e, "bad contact", errs.ErrInvalid, "", func() error {
			_, err := e.Events.Report(e.ctx, r)
			if fe := (*errs.FieldError)(nil); errors.As(err, &fe) {
				fe.Field = "" // any contact field
			}
			return err
		})
	}
	e.Close()
	raw, err := os.ReadFile(filepath.Join(e.dir, "state.db"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, []byte("13912345678")) || bytes.Contains(raw, []byte("1234-5678")) || bytes.Contains(raw, []byte("zhangsan@")) || bytes.Contains(raw, []byte("明月")) {
		t.Fatal("the reporter's name, phone number or email is in the state file in the clear")
	}
}
