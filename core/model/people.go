package model

import (
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/fengqiao/fengqiao/core/errs"
)

// Resident kinds.
var ResidentKinds = []string{"registered", "floating", "foreign", "left_behind"}

// Person is a resident as stored: the name and ID number only sealed, with
// masked forms for display and a blind index for exact lookup.
type Person struct {
	ID           string   `json:"id"`
	NameMasked   string   `json:"name_masked"`
	NameSealed   string   `json:"name_sealed"`
	IDMasked     string   `json:"id_masked"`
	IDSealed     string   `json:"id_sealed"`
	IDBlind      string   `json:"id_blind"`
	Kind         string   `json:"kind"`
	Jurisdiction string   `json:"jurisdiction"`
	Grid         string   `json:"grid,omitempty"`
	House        string   `json:"house,omitempty"`
	Special      *Special `json:"special,omitempty"`
}

// Place is the most specific code the person lives at: the grid, else the
// village. Scope checks use it, so a token scoped to one grid sees the
// people of that grid.
func (p *Person) Place() string { return PlaceOf(p.Jurisdiction, p.Grid) }

// Legal bases a reveal of sensitive details may rest on (PIPL art. 13, 28):
// the audit shows which one, and the purpose in words.
const (
	BasisVisit            = "visit"             // 走访
	BasisCaseHandling     = "case_handling"     // 案事件办理
	BasisHandover         = "handover"          // 人员转移交接
	BasisStatisticsReview = "statistics_review" // 统计核查
	BasisOther            = "other"             // 其他 (say which in the purpose)
)

// RevealBases lists the legal bases a reveal may name.
var RevealBases = []string{BasisVisit, BasisCaseHandling, BasisHandover, BasisStatisticsReview, BasisOther}

// MaxPurpose bounds a reveal's purpose, in characters.
const MaxPurpose = 200

// Purpose is why sensitive details are read: a legal basis from
// RevealBases and the purpose in words (at most MaxPurpose characters).
type Purpose struct {
	Basis string `json:"basis"`
	Text  string `json:"purpose"`
}

// Check requires a known legal basis and a purpose in words.
func (p Purpose) Check() error {
	if !slices.Contains(RevealBases, p.Basis) {
		return errs.Invalid("basis", "enum", "basis must be one of %v", RevealBases)
	}
	if strings.TrimSpace(p.Text) == "" {
		return errs.Invalid("purpose", "required", "say why the details are read")
	}
	if n := utf8.RuneCountInString(p.Text); n > MaxPurpose || !utf8.ValidString(p.Text) {
		return errs.Invalid("purpose", "length", "purpose must be valid text of at most %d characters", MaxPurpose)
	}
	return nil
}

// PersonInput is the input to register a resident. Name and IDNumber are
// sealed before they leave this process.
type PersonInput struct {
	ID           string `json:"id,omitempty"` // default: generated
	Name         string `json:"name"`
	IDNumber     string `json:"id_number"`
	Kind         string `json:"kind"`
	Jurisdiction string `json:"jurisdiction"`
	Grid         string `json:"grid,omitempty"`
	House        string `json:"house,omitempty"`
}

// MaskName keeps the first character: 张三 → 张*.
func MaskName(name string) string {
	r, size := utf8.DecodeRuneInString(name)
	if r == utf8.RuneError {
		return "*"
	}
	return name[:size] + strings.Repeat("*", max(1, utf8.RuneCountInString(name)-1))
}

// Revealed is a person's sensitive fields in the clear.
type Revealed struct {
	ID       string          `json:"id"`
	Name     string          `json:"name"`
	IDNumber string          `json:"id_number"`
	Details  *SpecialDetails `json:"details,omitempty"`
}

// PersonPatch changes some of a resident's own fields; nil leaves one as it
// is. The name is sealed again; where the person lives changes within the
// village here, and to another village by a Transfer.
type PersonPatch struct {
	Name  *string `json:"name,omitempty"`
	Kind  *string `json:"kind,omitempty"`
	Grid  *string `json:"grid,omitempty"`
	House *string `json:"house,omitempty"`
}

// Transfer moves a resident to another village or community of the same
// group (迁移); across groups the handover flow (转移交接) is used.
type Transfer struct {
	Jurisdiction string `json:"jurisdiction"`
	Grid         string `json:"grid,omitempty"`
	House        string `json:"house,omitempty"`
	Reason       string `json:"reason"`
}
