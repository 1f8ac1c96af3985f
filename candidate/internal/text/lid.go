package text

// Identification is what /text-lid answers: nil fields are JSON nulls, as legacy sends them.
//
// When the script is shared by several languages (Devanagari: Hindi and Marathi), only a
// statistical model can choose: Identify then leaves LanguageCode nil and names the
// Candidates, the caller asks the inference server's language-identification model (the same
// model legacy asks) and records its answer with Decided.
type Identification struct {
	LanguageCode *string
	ScriptCode   *string
	Candidates   []string
}

// singleLanguageScripts are the scripts that alone name a language (legacy's _SINGLE).
// Ol Chiki and Meetei Mayek are reported as a script with no language, as legacy does.
var singleLanguageScripts = map[string]string{
	"Beng": "bn-IN", "Guru": "pa-IN", "Gujr": "gu-IN", "Orya": "od-IN", "Taml": "ta-IN",
	"Telu": "te-IN", "Knda": "kn-IN", "Mlym": "ml-IN", "Latn": "en-IN", "Arab": "ur-IN",
}

// sharedScripts are the scripts the model decides between languages for (legacy's _SHARED).
var sharedScripts = map[string][]string{"Deva": {"hi-IN", "mr-IN"}}

// undecided is the language when the model cannot tell the candidates apart.
const undecided = "hi-IN"

// Identify is the platform's half of legacy's LanguageIdentifier.identify: the script decides,
// or names the candidates the model must choose between.
func Identify(s string) Identification {
	script := DominantScript(s)
	if script == "" {
		return Identification{}
	}
	sc := script
	if candidates, shared := sharedScripts[script]; shared {
		return Identification{ScriptCode: &sc, Candidates: candidates}
	}
	if lang, ok := singleLanguageScripts[script]; ok {
		return Identification{LanguageCode: &lang, ScriptCode: &sc}
	}
	return Identification{ScriptCode: &sc}
}

// Decided is id with the model's answer ("" when it could not tell: Hindi, as legacy).
func (id Identification) Decided(answer string) Identification {
	if answer == "" {
		answer = undecided
	}
	id.LanguageCode, id.Candidates = &answer, nil
	return id
}
