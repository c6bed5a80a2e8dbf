package state

import (
	"bytes"
	"fmt"
	"slices"
	"time"

	"github.com/fengqiao/fengqiao/core/errs"
	"github.com/fengqiao/fengqiao/core/model"
	"go.etcd.io/bbolt"
)

// allowedChild says which kinds may sit under which.
var allowedChild = map[model.OrgKind][]model.OrgKind{
	model.OrgCommittee:     {model.OrgGeneralBranch, model.OrgBranch},
	model.OrgGeneralBranch: {model.OrgBranch},
	model.OrgBranch:        {model.OrgGroup},
}

func applyOrg(t *txn, c *Command, o *model.Org) (any, error) {
	if err := model.CheckID("id", o.ID); err != nil {
		return nil, err
	}
	if o.Name == "" || len(o.Name) > 200 {
		return nil, errs.Invalid("name", "required", "name must be 1..200 bytes")
	}
	if _, ok := allowedChild[o.Kind]; !ok && o.Kind != model.OrgGroup {
		return nil, errs.Invalid("kind", "enum", "kind must be committee, general_branch, branch or group")
	}
	if t.b(bJur).Get([]byte(o.Jurisdiction)) == nil || hidden(c, o.Jurisdiction) {
		return nil, errs.NotFound("jurisdiction", "jurisdiction %s not found", o.Jurisdiction)
	}
	var old model.Org
	if exists, err := t.getRecord(BucketOrg, []byte(o.ID), &old); err != nil {
		return nil, err
	} else if exists && hidden(c, old.Jurisdiction) {
		return nil, unavailable("id", o.ID)
	}
	if o.Parent != "" {
		p, err := loadIn(t, c, BucketOrg, o.Parent, "parent", "org", orgPlace)
		if err != nil {
			return nil, err
		}
		if !slices.Contains(allowedChild[p.Kind], o.Kind) {
			return nil, errs.Invalid("kind", "hierarchy", "a %s cannot sit under a %s", o.Kind, p.Kind)
		}
		if !IsUnder(o.Jurisdiction, p.Jurisdiction) {
			return nil, errs.Invalid("jurisdiction", "scope", "org must lie within its parent's jurisdiction %s", p.Jurisdiction)
		}
	} else if o.Kind == model.OrgGroup {
		return nil, errs.Invalid("parent", "required", "a party group belongs to a branch")
	}
	if len(o.Grids) > 0 && o.Kind != model.OrgBranch && o.Kind != model.OrgGroup {
		return nil, errs.Invalid("grids", "kind", "only branches and groups are built on grids")
	}
	o.Grids = sortedUnique(o.Grids)
	for i, g := range o.Grids {
		grid, err := t.activeGrid(c, fmt.Sprintf("grids[%d]", i), g)
		if err != nil {
			return nil, err
		}
		if !IsUnder(grid.Jurisdiction, o.Jurisdiction) {
			return nil, errs.Invalid(fmt.Sprintf("grids[%d]", i), "scope", "grid %s is outside %s", g, o.Jurisdiction)
		}
	}
	o.Last = old.Last
	if old.ID != "" && old.Jurisdiction != o.Jurisdiction {
		if err := t.del(BucketOrgPlace, orgPlaceKey(&old)); err != nil {
			return nil, err
		}
	}
	if err := t.put(BucketOrgPlace, orgPlaceKey(o)); err != nil {
		return nil, err
	}
	return o, t.putRecord(BucketOrg, []byte(o.ID), o)
}

// orgPlace is where an org lies, for scope checks.
func orgPlace(o *model.Org) string { return o.Jurisdiction }

// scopedOrg loads an org, as missing when it lies outside the command's scope.
func (t *txn) scopedOrg(c *Command, field, id string) (*model.Org, error) {
	return loadIn(t, c, BucketOrg, id, field, "org", orgPlace)
}

// orgPlaceKey places an org in the org-by-place index, so a listing under a
// township reads that township's orgs, not every org of the city.
func orgPlaceKey(o *model.Org) []byte { return key(o.Jurisdiction, o.ID) }

func applyMember(t *txn, c *Command, m *model.Member) (any, error) {
	if err := model.CheckID("id", m.ID); err != nil {
		return nil, err
	}
	if m.Name == "" || len(m.Name) > 100 {
		return nil, errs.Invalid("name", "required", "name must be 1..100 bytes")
	}
	if m.Status != "full" && m.Status != "probationary" {
		return nil, errs.Invalid("status", "enum", "status must be full or probationary")
	}
	for i, r := range m.Roles {
		if !slices.Contains(model.MemberRoles, r) {
			return nil, errs.Invalid(fmt.Sprintf("roles[%d]", i), "enum", "role must be one of %v", model.MemberRoles)
		}
	}
	if _, err := t.scopedOrg(c, "org", m.Org); err != nil {
		return nil, err
	}
	if m.DualReport != "" && t.b(bJur).Get([]byte(m.DualReport)) == nil {
		return nil, errs.NotFound("dual_report", "community %s not found", m.DualReport)
	}
	for i, h := range m.Households {
		if t.b(bHouse).Get([]byte(h)) == nil {
			return nil, errs.NotFound(fmt.Sprintf("households[%d]", i), "house %s not found", h)
		}
	}
	var old model.Member
	if ok, err := t.getRecord(bMember, []byte(m.ID), &old); err != nil {
		return nil, err
	} else if ok {
		// The member as it stands must be the caller's to move.
		if _, err := t.scopedOrg(c, "id", old.Org); err != nil {
			return nil, unavailable("id", m.ID)
		}
		t.del(bMemberOrg, key(old.Org, old.ID))
	}
	if err := t.put(bMemberOrg, key(m.Org, m.ID)); err != nil {
		return nil, err
	}
	return m, t.putRecord(bMember, []byte(m.ID), m)
}

func applyActivity(t *txn, c *Command, a *model.Activity) (any, error) {
	if err := model.CheckID("id", a.ID); err != nil {
		return nil, err
	}
	spec, ok := model.ActivityKinds[a.Kind]
	if !ok {
		return nil, errs.Invalid("kind", "enum", "unknown activity kind %q", a.Kind)
	}
	d, err := time.Parse(time.DateOnly, a.Date)
	if err != nil {
		return nil, errs.Invalid("date", "format", "date must be YYYY-MM-DD")
	}
	if a.Topic == "" || len(a.Topic) > 500 {
		return nil, errs.Invalid("topic", "required", "topic must be 1..500 bytes")
	}
	var prior model.Activity
	if ok, err := t.getRecord(bActivity, []byte(a.ID), &prior); err != nil {
		return nil, err
	} else if ok {
		if _, err := t.scopedOrg(c, "id", prior.Org); err != nil {
			return nil, unavailable("id", a.ID)
		}
		return nil, errs.Conflict("id", "exists", "activity %s already exists", a.ID)
	}
	o, err := t.scopedOrg(c, "org", a.Org)
	if err != nil {
		return nil, err
	}
	if spec.Holder != o.Kind {
		return nil, errs.Invalid("kind", "holder", "%s is held by a %s, not a %s", a.Kind, spec.Holder, o.Kind)
	}
	members := map[string]bool{}
	c2 := t.b(bMemberOrg).Cursor()
	pre := []byte(o.ID + "/")
	for k, _ := c2.Seek(pre); k != nil && bytes.HasPrefix(k, pre); k, _ = c2.Next() {
		members[string(k[len(pre):])] = true
	}
	a.Attendees = sortedUnique(a.Attendees)
	for i, m := range a.Attendees {
		if !members[m] {
			return nil, errs.Invalid(fmt.Sprintf("attendees[%d]", i), "member", "%s is not a member of %s", m, o.ID)
		}
	}
	a.Absent = len(members) - len(a.Attendees)
	if o.Last == nil {
		o.Last = map[string]time.Time{}
	}
	if d.After(o.Last[a.Kind]) {
		o.Last[a.Kind] = d
	}
	if err := t.putRecord(BucketOrg, []byte(o.ID), o); err != nil {
		return nil, err
	}
	if err := t.put(bActOrg, key(o.ID, a.Date, a.ID)); err != nil {
		return nil, err
	}
	return a, t.putRecord(bActivity, []byte(a.ID), a)
}

// Orgs is Orgs with limit 0 meaning all.
func (eng *Engine) Orgs(under, after string, limit int) ([]model.Org, string, error) {
	pre, err := eng.Scope("under", under)
	if err != nil {
		return nil, "", err
	}
	return refsPage[model.Org](eng, BucketOrgPlace, BucketOrg, []byte(pre), after, limit)
}

// Org returns one org.
func (eng *Engine) Org(id string) (*model.Org, error) {
	return lookup[model.Org](eng, BucketOrg, id, "org")
}

// Members lists an org's members by id, a page at a time, as Orgs does.
func (eng *Engine) Members(org, after string, limit int) (members []model.Member, next string, err error) {
	return refsPage[model.Member](eng, bMemberOrg, bMember, []byte(org+"/"), after, PageLimit(limit, 100, 500))
}

// Coverage lists the active grids under a jurisdiction that no branch or
// group is built on.
func (eng *Engine) Coverage(under string) (uncovered []string, total int, err error) {
	orgs, _, err := eng.Orgs(under, "", 0)
	if err != nil {
		return nil, 0, err
	}
	covered := map[string]bool{}
	for _, o := range orgs {
		for _, g := range o.Grids {
			covered[g] = true
		}
	}
	scope, _ := eng.Scope("under", under) // checked by Orgs above
	pre := []byte(scope)
	err = eng.View(func(tx *bbolt.Tx) error {
		c := tx.Bucket(bGridByJur).Cursor()
		for k, _ := c.Seek(pre); k != nil && bytes.HasPrefix(k, pre); k, _ = c.Next() {
			code := string(k[bytes.IndexByte(k, '/')+1:])
			g, err := decodeGrid(tx.Bucket(bGrid).Get([]byte(code)))
			if err != nil {
				return err
			}
			if g.Status != model.GridActive {
				continue
			}
			total++
			if !covered[code] {
				uncovered = append(uncovered, code)
			}
		}
		return nil
	})
	return uncovered, total, err
}

// Activities lists an org's activities by date, then id, a page at a time.
func (eng *Engine) Activities(org, after string, limit int) ([]model.Activity, string, error) {
	return refsPage[model.Activity](eng, bActOrg, bActivity, []byte(org+"/"), after, PageLimit(limit, 100, 500))
}

// LastHeld is the date of the org's latest activity of kind held on or
// before asOf (zero: none). An activity recorded with a later date is
// planned, not held.
func (eng *Engine) LastHeld(org, kind string, asOf time.Time) (time.Time, error) {
	var last time.Time
	day := asOf.Format(time.DateOnly)
	pre := []byte(org + "/")
	err := eng.View(func(tx *bbolt.Tx) error {
		c := tx.Bucket(bActOrg).Cursor()
		// Keys are <org>/<date>/<id>: start after the last one of asOf's day.
		k, _ := c.Seek([]byte(org + "/" + day + "/\xff"))
		if k == nil {
			k, _ = c.Last()
		} else {
			k, _ = c.Prev()
		}
		for ; k != nil && bytes.HasPrefix(k, pre); k, _ = c.Prev() {
			var a model.Activity
			if err := decodeRecord(tx.Bucket(bActivity).Get(k[bytes.LastIndexByte(k, '/')+1:]), &a); err != nil {
				return err
			}
			if a.Kind == kind && a.Date <= day {
				last, _ = time.Parse(time.DateOnly, a.Date)
				return nil
			}
		}
		return nil
	})
	return last, err
}
