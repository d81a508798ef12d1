// agentprobe does on NATS what a bk-lite agent host does, with the NATS client bk-lite's nats-executor is built
// with (nats.go v1.46.1, the fork's agents/nats-executor/go.mod:7) and the same calls: publish (Telegraf's and
// Vector's outputs), serve a command subject and reply with msg.Respond (nats-executor), and read an object from
// the object store (js.ObjectStore then Get, agents/nats-executor/jetstream/server.go). It also tries what an agent
// must not be able to do, so the tests can show NATS refuses it. One operation per run; one JSON line of result.
//
// Connection from the environment, never the command line: PROBE_URL, PROBE_USER, PROBE_PASSWORD, PROBE_CA.
package main

import (
	"bufio"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
)

func main() {
	errs := make(chan error, 16)
	nc, err := nats.Connect(os.Getenv("PROBE_URL"),
		nats.UserInfo(os.Getenv("PROBE_USER"), os.Getenv("PROBE_PASSWORD")),
		nats.RootCAs(os.Getenv("PROBE_CA")),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, e error) { errs <- e }))
	if err != nil {
		report(map[string]any{}, err)
		return
	}
	defer nc.Close()
	result := map[string]any{}
	report(result, run(nc, errs, os.Args[1:], result))
}

func run(nc *nats.Conn, errs chan error, args []string, result map[string]any) error {
	switch args[0] {
	case "publish":
		if err := nc.Publish(args[1], []byte(args[2])); err != nil {
			return err
		}
		return settle(nc, errs)
	case "subscribe":
		return subscribe(nc, errs, args[1], args[2], result)
	case "serve":
		return serve(nc, errs, args[1], result)
	case "request":
		reply, err := nc.Request(args[1], []byte(args[2]), 3*time.Second)
		if err == nil {
			result["reply"] = string(reply.Data)
		}
		return err
	default:
		return objects(nc, args, result)
	}
}

// objects: get, put and delete in a bucket, as the executor's object store client makes them.
func objects(nc *nats.Conn, args []string, result map[string]any) error {
	js, err := nc.JetStream()
	if err != nil {
		return err
	}
	store, err := js.ObjectStore(args[1])
	if err != nil {
		return err
	}
	switch args[0] {
	case "get":
		data, err := store.GetBytes(args[2])
		if err == nil {
			result["sha256"] = fmt.Sprintf("%x", sha256.Sum256(data))
			result["size"] = len(data)
		}
		return err
	case "put":
		_, err := store.PutBytes(args[2], []byte(args[3]))
		return err
	case "delete":
		return store.Delete(args[2])
	}
	return fmt.Errorf("unknown operation %q", args[0])
}

// subscribe says it is ready, then gathers what arrives for a number of seconds.
func subscribe(nc *nats.Conn, errs chan error, subject, seconds string, result map[string]any) error {
	got := make(chan string, 64)
	if _, err := nc.Subscribe(subject, func(m *nats.Msg) { got <- m.Subject + " " + string(m.Data) }); err != nil {
		return err
	}
	if err := settle(nc, errs); err != nil {
		return err
	}
	fmt.Println(`{"ready":true}`)
	wait, _ := strconv.Atoi(seconds)
	received := []string{}
	deadline := time.After(time.Duration(wait) * time.Second)
	for {
		select {
		case s := <-got:
			received = append(received, s)
		case e := <-errs:
			return e
		case <-deadline:
			result["received"] = received
			return nil
		}
	}
}

// serve answers every request on the subject, as nats-executor does, until its standard input closes; then it
// says how many it answered.
func serve(nc *nats.Conn, errs chan error, subject string, result map[string]any) error {
	user := os.Getenv("PROBE_USER")
	var served atomic.Int64
	_, err := nc.Subscribe(subject, func(m *nats.Msg) {
		served.Add(1)
		m.Respond([]byte(fmt.Sprintf("%s answered %s: %s", user, m.Subject, m.Data)))
	})
	if err != nil {
		return err
	}
	if err := settle(nc, errs); err != nil {
		return err
	}
	fmt.Println(`{"ready":true}`)
	bufio.NewReader(os.Stdin).ReadString('\n')
	result["served"] = served.Load()
	return nil
}

// settle waits for the server to have processed what was sent, and for a refusal it sent back.
func settle(nc *nats.Conn, errs chan error) error {
	if err := nc.Flush(); err != nil {
		return err
	}
	select {
	case e := <-errs:
		return e
	case <-time.After(300 * time.Millisecond):
		return nil
	}
}

func report(result map[string]any, err error) {
	result["ok"] = err == nil
	if err != nil {
		result["error"] = err.Error()
	}
	line, _ := json.Marshal(result)
	fmt.Println(string(line))
}
