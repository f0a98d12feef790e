// Package codec is vigil's payload encryption: an AES-256-GCM
// converter.PayloadCodec for workflow inputs, results, signals, queries,
// memos and heartbeat details, and the remote codec HTTP endpoint the
// Temporal Web UI and CLI use to show them decrypted.
//
// Keys are named: "id:base64-of-32-bytes", several separated by commas or
// newlines, the first one (the newest) encrypts and every listed one
// decrypts, so a key is rotated by prepending a new one and dropping the
// old one once no open history needs it. The key id travels in the
// payload's metadata. Keys come from VIGIL_CODEC_KEYS (the list itself) or
// VIGIL_CODEC_KEYS_FILE (a file with the list); with neither, nothing is
// encrypted and an encrypted payload fails to decode with one clear error.
//
// Search attributes are not payloads of this codec: VigilFlow and
// VigilTarget stay readable (and must not hold secrets anyway).
package codec

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"strings"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/protobuf/proto"
)

// Environment variables that hold the keys.
const (
	// KeysEnv holds the key list itself.
	KeysEnv = "VIGIL_CODEC_KEYS"
	// KeysFileEnv names a file holding the key list.
	KeysFileEnv = "VIGIL_CODEC_KEYS_FILE"
)

// Payload metadata written by the codec.
const (
	// Encoding is the metadata "encoding" of an encrypted payload.
	Encoding = "binary/encrypted"
	// MetadataKeyID names the key that encrypted the payload.
	MetadataKeyID = "encryption-key-id"
	// MetadataCipher names the cipher.
	MetadataCipher = "encryption-cipher"
	// Cipher is the value of MetadataCipher.
	Cipher = "AES256-GCM"
)

// ErrNoKey is wrapped by decode errors for a payload whose key this process
// does not have.
var ErrNoKey = errors.New("vigil payload codec: key not available")

// Key is one named AES-256 key.
type Key struct {
	// ID names the key in the payload metadata.
	ID string
	// Secret is the 32-byte key.
	Secret []byte
}

// ParseKeys reads "id:base64,id:base64" (commas or newlines; blank lines
// and lines starting with # are ignored). The first key encrypts.
func ParseKeys(s string) ([]Key, error) {
	var keys []Key
	seen := map[string]bool{}
	var entries []string
	for _, line := range strings.Split(s, "\n") {
		if line = strings.TrimSpace(line); !strings.HasPrefix(line, "#") {
			entries = append(entries, strings.Split(line, ",")...)
		}
	}
	for _, f := range entries {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		id, b64, ok := strings.Cut(f, ":")
		id = strings.TrimSpace(id)
		if !ok || id == "" {
			return nil, fmt.Errorf("codec key %q: want id:base64-of-32-bytes", redact(f))
		}
		secret, err := base64.StdEncoding.DecodeString(strings.TrimSpace(b64))
		if err != nil || len(secret) != 32 {
			return nil, fmt.Errorf("codec key %q: want 32 bytes in standard base64 (openssl rand -base64 32)", id)
		}
		if seen[id] {
			return nil, fmt.Errorf("codec key %q listed twice", id)
		}
		seen[id] = true
		keys = append(keys, Key{ID: id, Secret: secret})
	}
	return keys, nil
}

// redact keeps the id of a malformed key entry and hides the rest.
func redact(entry string) string {
	if id, _, ok := strings.Cut(entry, ":"); ok {
		return id + ":…"
	}
	return "…"
}

// LoadKeys reads the keys from file when it is non-empty, else from
// getenv(KeysEnv) or the file named by getenv(KeysFileEnv). No keys
// configured is not an error: the result is empty.
func LoadKeys(file string, getenv func(string) string) ([]Key, error) {
	if file == "" && getenv(KeysEnv) != "" {
		return ParseKeys(getenv(KeysEnv))
	}
	if file == "" {
		file = getenv(KeysFileEnv)
	}
	if file == "" {
		return nil, nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("codec keys: %w", err)
	}
	keys, err := ParseKeys(string(b))
	if err == nil && len(keys) == 0 {
		err = fmt.Errorf("codec keys file %s holds no key", file)
	}
	return keys, err
}

// Codec encrypts payloads with its first key and decrypts with any.
type Codec struct {
	encrypt *Key
	aeads   map[string]cipher.AEAD
}

// New returns the codec for keys; with no keys it passes payloads through
// on Encode and refuses encrypted ones on Decode with ErrNoKey.
func New(keys []Key) (*Codec, error) {
	c := &Codec{aeads: map[string]cipher.AEAD{}}
	for i := range keys {
		block, err := aes.NewCipher(keys[i].Secret)
		if err != nil {
			return nil, fmt.Errorf("codec key %q: %w", keys[i].ID, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("codec key %q: %w", keys[i].ID, err)
		}
		c.aeads[keys[i].ID] = aead
		if c.encrypt == nil {
			c.encrypt = &keys[i]
		}
	}
	return c, nil
}

// Enabled reports whether the codec encrypts.
func (c *Codec) Enabled() bool { return c.encrypt != nil }

// KeyID is the id of the encrypting key ("" when disabled).
func (c *Codec) KeyID() string {
	if c.encrypt == nil {
		return ""
	}
	return c.encrypt.ID
}

// Encode encrypts each payload whole (data and metadata) with the newest
// key; the key id is authenticated as additional data.
func (c *Codec) Encode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	if c.encrypt == nil {
		return payloads, nil
	}
	aead := c.aeads[c.encrypt.ID]
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		plain, err := proto.Marshal(p)
		if err != nil {
			return nil, fmt.Errorf("vigil payload codec: %w", err)
		}
		nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plain)+aead.Overhead())
		if _, err := rand.Read(nonce); err != nil {
			return nil, fmt.Errorf("vigil payload codec: %w", err)
		}
		out[i] = &commonpb.Payload{
			Metadata: map[string][]byte{
				converter.MetadataEncoding: []byte(Encoding),
				MetadataKeyID:              []byte(c.encrypt.ID),
				MetadataCipher:             []byte(Cipher),
			},
			Data: aead.Seal(nonce, nonce, plain, []byte(c.encrypt.ID)),
		}
	}
	return out, nil
}

// Decode decrypts the payloads this codec encrypted and passes others
// through. A payload whose key is not configured fails with ErrNoKey; a
// payload the key does not open fails saying so.
func (c *Codec) Decode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		if string(p.GetMetadata()[converter.MetadataEncoding]) != Encoding {
			out[i] = p
			continue
		}
		id := string(p.GetMetadata()[MetadataKeyID])
		aead, ok := c.aeads[id]
		if !ok {
			if len(c.aeads) == 0 {
				return nil, fmt.Errorf("%w: payload is encrypted with key %q and no codec keys are configured (set %s or %s, or --codec-keys-file)", ErrNoKey, id, KeysEnv, KeysFileEnv)
			}
			return nil, fmt.Errorf("%w: payload is encrypted with key %q, which is not among the configured keys (%s)", ErrNoKey, id, strings.Join(c.ids(), ", "))
		}
		data := p.GetData()
		if len(data) < aead.NonceSize() {
			return nil, fmt.Errorf("vigil payload codec: encrypted payload too short (%d bytes)", len(data))
		}
		plain, err := aead.Open(nil, data[:aead.NonceSize()], data[aead.NonceSize():], []byte(id))
		if err != nil {
			return nil, fmt.Errorf("vigil payload codec: cannot decrypt payload with key %q: the key with that id is not the one that encrypted it", id)
		}
		var dec commonpb.Payload
		if err := proto.Unmarshal(plain, &dec); err != nil {
			return nil, fmt.Errorf("vigil payload codec: decrypted payload: %w", err)
		}
		out[i] = &dec
	}
	return out, nil
}

func (c *Codec) ids() []string {
	ids := make([]string, 0, len(c.aeads))
	for id := range c.aeads {
		ids = append(ids, id)
	}
	return ids
}

// DataConverter wraps the SDK's default converter with c. Use it even
// without keys: decoding then reports encrypted payloads clearly.
func (c *Codec) DataConverter() converter.DataConverter {
	return converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), c)
}

// FailureConverter also encrypts failure messages and stack traces (which
// may quote inputs), when the codec encrypts; nil otherwise.
func (c *Codec) FailureConverter() converter.FailureConverter {
	if !c.Enabled() {
		return nil
	}
	return temporal.NewDefaultFailureConverter(temporal.DefaultFailureConverterOptions{
		DataConverter:          c.DataConverter(),
		EncodeCommonAttributes: true,
	})
}

// Configure sets c's data and failure converters on client options.
func (c *Codec) Configure(co *client.Options) {
	co.DataConverter = c.DataConverter()
	if fc := c.FailureConverter(); fc != nil {
		co.FailureConverter = fc
	}
}
