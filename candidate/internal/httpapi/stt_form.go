package httpapi

import (
	"bytes"
	"net/url"
	"strings"
	"unicode/utf8"
)

// Form bodies as legacy's stack reads them (Starlette's request.form() over python-multipart,
// then FastAPI's Form/File parameters): multipart/form-data and
// application/x-www-form-urlencoded are parsed, any other content type is an empty form; a
// part is a file when its Content-Disposition has a filename parameter (even an empty one);
// a field repeated keeps its last value; a part whose closing delimiter never comes is
// dropped; text that is not UTF-8 is read as Latin-1. The malformed bodies python-multipart
// refuses are a 400 with Starlette's words.

// formValue is one field's last value: a file's bytes, or a text field.
type formValue struct {
	isFile bool
	data   []byte
	text   string
}

type formData map[string]formValue

const (
	msgInvalidMultipart = "Invalid multipart data."
	msgMissingBoundary  = "Missing boundary in multipart."
	msgMissingName      = `The Content-Disposition header field "name" must be provided.`
	maxFieldPartBytes   = 1 << 20 // Starlette's max_part_size for a field
)

// parseForm reads body by its content type; the string is a 400's message.
func parseForm(contentType string, body []byte) (formData, string) {
	mediaType, params := parseOptionsHeader(contentType)
	switch mediaType {
	case "multipart/form-data":
		boundary, ok := params["boundary"]
		if !ok {
			return nil, msgMissingBoundary
		}
		return parseMultipart(body, boundary)
	case "application/x-www-form-urlencoded":
		return parseURLEncoded(body), ""
	}
	return formData{}, ""
}

// parseOptionsHeader is python-multipart's parse_options_header (through email.message): the
// lowercased value before the first ';' and its parameters, keys lowercased, quotes removed.
func parseOptionsHeader(value string) (string, map[string]string) {
	params := map[string]string{}
	parts := splitParams(value)
	if len(parts) == 0 {
		return "", params
	}
	mediaType := strings.ToLower(strings.TrimSpace(parts[0]))
	for _, p := range parts[1:] {
		key, val, ok := strings.Cut(p, "=")
		key = strings.ToLower(strings.TrimSpace(key))
		if !ok || key == "" {
			continue
		}
		val = strings.TrimSpace(val)
		if len(val) >= 2 && val[0] == '"' && val[len(val)-1] == '"' {
			val = strings.NewReplacer(`\\`, `\`, `\"`, `"`).Replace(val[1 : len(val)-1])
		}
		if _, seen := params[key]; !seen {
			params[key] = val
		}
	}
	return mediaType, params
}

// splitParams splits a header value at the semicolons outside quotes.
func splitParams(s string) []string {
	var out []string
	quoted, start := false, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			if quoted {
				i++
			}
		case '"':
			quoted = !quoted
		case ';':
			if !quoted {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	return append(out, s[start:])
}

// decodeText is Starlette's _user_safe_decode for UTF-8: the text, or Latin-1 when it is not
// valid UTF-8.
func decodeText(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	return latin1(string(b))
}

func parseURLEncoded(body []byte) formData {
	form := formData{}
	for _, pair := range strings.Split(string(body), "&") {
		if pair == "" {
			continue
		}
		name, value, _ := strings.Cut(pair, "=")
		n, err1 := url.QueryUnescape(name)
		v, err2 := url.QueryUnescape(value)
		if err1 != nil || err2 != nil {
			n, v = name, value
		}
		form[decodeText([]byte(n))] = formValue{text: decodeText([]byte(v))}
	}
	return form
}

// tokenChars are the bytes python-multipart allows in a header name.
func isTokenChar(c byte) bool {
	if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// parseMultipart is python-multipart's MultipartParser over a whole body.
func parseMultipart(body []byte, boundary string) (formData, string) {
	form := formData{}
	delim := []byte("--" + boundary)
	i := 0
	// Leading CR/LF is skipped up to the first '-'.
	for i < len(body) && (body[i] == '\r' || body[i] == '\n') {
		j := bytes.IndexByte(body[i:], '-')
		if j < 0 {
			return form, ""
		}
		i += j
	}
	if i == len(body) {
		return form, ""
	}
	// The first delimiter, then CRLF (a part) or "--" (the end).
	for k := 0; k < len(delim); k++ {
		if i+k >= len(body) {
			return form, ""
		}
		if body[i+k] != delim[k] {
			return nil, msgInvalidMultipart
		}
	}
	i += len(delim)
	for {
		if i >= len(body) {
			return form, ""
		}
		if body[i] == '-' {
			return form, "" // the close delimiter: the epilogue is ignored
		}
		if body[i] != '\r' || (i+1 < len(body) && body[i+1] != '\n') {
			return nil, msgInvalidMultipart
		}
		if i+1 >= len(body) {
			return form, ""
		}
		i += 2
		// Headers until an empty line.
		var disposition string
		for {
			if bytes.HasPrefix(body[i:], []byte("\r\n")) {
				i += 2
				break
			}
			lineEnd := bytes.IndexByte(body[i:], '\r')
			colon := bytes.IndexByte(body[i:], ':')
			if colon < 0 || (lineEnd >= 0 && colon > lineEnd) {
				if lineEnd < 0 && colon < 0 {
					for _, c := range body[i:] {
						if !isTokenChar(c) {
							return nil, msgInvalidMultipart
						}
					}
					return form, "" // the body ends inside a header
				}
				return nil, msgInvalidMultipart
			}
			name := body[i : i+colon]
			if len(name) == 0 {
				return nil, msgInvalidMultipart
			}
			for _, c := range name {
				if !isTokenChar(c) {
					return nil, msgInvalidMultipart
				}
			}
			i += colon + 1
			for i < len(body) && body[i] == ' ' {
				i++
			}
			end := bytes.IndexByte(body[i:], '\r')
			if end < 0 {
				return form, ""
			}
			value := body[i : i+end]
			i += end
			if i+1 >= len(body) {
				return form, ""
			}
			if body[i+1] != '\n' {
				return nil, msgInvalidMultipart
			}
			i += 2
			if strings.EqualFold(string(name), "content-disposition") {
				disposition = string(value)
			}
		}
		_, options := parseOptionsHeader(disposition)
		fieldName, hasName := options["name"]
		if !hasName {
			return nil, msgMissingName
		}
		_, isFile := options["filename"]
		// The data runs to CRLF + delimiter followed by CRLF or "--".
		start := i
		end := -1
		for search := i; ; {
			k := bytes.Index(body[search:], append([]byte("\r\n"), delim...))
			if k < 0 {
				break
			}
			after := search + k + 2 + len(delim)
			if after+1 < len(body) && (body[after] == '\r' && body[after+1] == '\n' || body[after] == '-' && body[after+1] == '-') {
				end = search + k
				i = after
				break
			}
			if after+1 >= len(body) {
				break
			}
			search = search + k + 1
		}
		if end < 0 {
			return form, "" // the part never closes: dropped
		}
		data := body[start:end]
		if !isFile && len(data) > maxFieldPartBytes {
			return nil, "Part exceeded maximum size of 1024KB."
		}
		key := decodeText([]byte(fieldName))
		if isFile {
			form[key] = formValue{isFile: true, data: data}
		} else {
			form[key] = formValue{text: decodeText(data)}
		}
	}
}
