#include "impl/proto/sslmessager/message.hpp"

#include <gtest/gtest.h>

namespace parley::sslmessager {
namespace {

using strings = std::vector<std::string>;

TEST(SslmessagerReader, CrlfLfAndTheTrailingSpace) {
  message_reader r;
  strings out;
  EXPECT_EQ(r.feed("AUTH aaa 123 \r\nMSG bbb aaa hi\nMSG bbb aaa two  spaces  \r\n", {}, out), message_reader::status::ok);
  EXPECT_EQ(out, (strings{"AUTH aaa 123", "MSG bbb aaa hi", "MSG bbb aaa two  spaces "}));
}

TEST(SslmessagerReader, EmptyMessagesAreDropped) {
  // The original client sends "MSG bbb aaa hello\n \r\n": the text's own LF, then " \r\n".
  message_reader r;
  strings out;
  r.feed("MSG bbb aaa hello\n \r\n\r\n", {}, out);
  EXPECT_EQ(out, (strings{"MSG bbb aaa hello"}));
}

TEST(SslmessagerReader, SplitMessagesWaitForTheirEnd) {
  message_reader r;
  strings out;
  time_point t{};
  r.feed("MSG bbb a", t, out);
  r.feed("aa hi \r", t + millis(50), out);
  EXPECT_TRUE(out.empty());
  r.on_timer(t + millis(249), out);
  EXPECT_TRUE(out.empty());
  r.feed("\n", t + millis(100), out);
  EXPECT_EQ(out, (strings{"MSG bbb aaa hi"}));
  EXPECT_FALSE(r.deadline());
}

TEST(SslmessagerReader, AFragmentThatStopsIsOneMessage) {
  // The original writes CHECK with no terminator at all.
  message_reader r;
  strings out;
  time_point t{};
  r.feed("CHECK", t, out);
  ASSERT_TRUE(r.deadline());
  EXPECT_EQ(*r.deadline(), t + fragment_timeout);
  r.on_timer(t + millis(199), out);
  EXPECT_TRUE(out.empty());
  r.on_timer(t + millis(200), out);
  EXPECT_EQ(out, (strings{"CHECK"}));
  r.feed("END <end accepted> ", t, out);
  r.finish(out);
  EXPECT_EQ(out.back(), "END <end accepted>");
}

TEST(SslmessagerReader, TooLongAtTheLimit) {
  message_reader r;
  strings out;
  EXPECT_EQ(r.feed(std::string(4095, 'x') + "\n", {}, out), message_reader::status::ok);  // 4096 with its LF
  EXPECT_EQ(out.size(), 1u);
  message_reader r2;
  EXPECT_EQ(r2.feed(std::string(4096, 'x') + "\n", {}, out), message_reader::status::too_long);
  message_reader r3;
  EXPECT_EQ(r3.feed(std::string(4096, 'x'), {}, out), message_reader::status::ok);
  EXPECT_EQ(r3.feed("y", {}, out), message_reader::status::too_long);
}

// What followed an overlong message is not a message: not at the end of the stream, not after more bytes.
TEST(SslmessagerReader, NothingAfterAnOverlongMessage) {
  message_reader r;
  strings out;
  EXPECT_EQ(r.feed("AUTH aaa 123\n" + std::string(4096, 'x') + "\nMSG bbb aaa hi\nMSG bbb", {}, out),
            message_reader::status::too_long);
  EXPECT_EQ(out, strings{"AUTH aaa 123"});
  EXPECT_EQ(r.held(), 0u);
  EXPECT_EQ(r.feed(" aaa more\n", {}, out), message_reader::status::too_long);
  r.finish(out);
  EXPECT_EQ(out, strings{"AUTH aaa 123"});
}

TEST(SslmessagerGrammar, ClientMessages) {
  auto auth = std::get<client_msg::auth>(parse_client("AUTH aaa 123"));
  EXPECT_EQ(auth.name, "aaa");
  EXPECT_EQ(auth.password, "123");
  for (auto bad : {"AUTH aaa", "AUTH aaa 123 x", "AUTH  aaa 123", "AUTH", "auth aaa 123", "AUTH aaa 1\r3", "HELLO"})
    EXPECT_TRUE(std::holds_alternative<client_msg::malformed>(parse_client(bad))) << bad;
  auto m = std::get<client_msg::msg>(parse_client("MSG bbb aaa two  spaces "));
  EXPECT_EQ(m.target, "bbb");
  EXPECT_EQ(m.sender, "aaa");
  EXPECT_EQ(m.text, "two  spaces ");
  EXPECT_EQ(std::get<client_msg::msg>(parse_client("MSG bbb aaa")).text, "");
  EXPECT_EQ(std::get<client_msg::msg>(parse_client("MSG bbb aaa ")).text, "");
  for (auto bad : {"MSG bbb", "MSG", "MSG  aaa hi"})
    EXPECT_TRUE(std::holds_alternative<client_msg::malformed>(parse_client(bad))) << bad;
  EXPECT_TRUE(std::holds_alternative<client_msg::end>(parse_client("END")));
  EXPECT_TRUE(std::holds_alternative<client_msg::end>(parse_client("END <user command>")));
}

TEST(SslmessagerGrammar, ServerMessages) {
  EXPECT_EQ(std::get<server_msg::accept>(parse_server("ACCEPT aaa")).name, "aaa");
  auto relay = std::get<server_msg::relay>(parse_server("RELAY bbb aaa hello there"));
  EXPECT_EQ(relay.sender, "aaa");
  EXPECT_EQ(relay.text, "hello there");
  EXPECT_TRUE(std::holds_alternative<server_msg::cnt>(parse_server("CNT <user not online>")));
  EXPECT_TRUE(std::holds_alternative<server_msg::check>(parse_server("CHECK")));
  auto end = std::get<server_msg::end>(parse_server("END * <incorrect protocol>"));
  EXPECT_TRUE(end.violation);
  EXPECT_EQ(end.reason, "incorrect protocol");
  EXPECT_FALSE(std::get<server_msg::end>(parse_server("END <end accepted>")).violation);
  EXPECT_TRUE(std::holds_alternative<server_msg::unknown>(parse_server("SURPRISE")));
  // SSLM-FRAME-03: a CR in the content makes the message malformed, whatever its first word.
  EXPECT_TRUE(std::holds_alternative<server_msg::unknown>(parse_server("RELAY bbb aaa a\rb")));
  EXPECT_EQ(wire("ACCEPT aaa"), "ACCEPT aaa \r\n");
}

TEST(SslmessagerRedactor, MasksTheFirstLinesPasswordAcrossChunks) {
  auth_redactor r;
  EXPECT_EQ(r(1, "AUTH aaa s3"), "AUTH aaa <hidden>");
  EXPECT_EQ(r(2, "AUTH bbb hunter2 \r\n"), "AUTH bbb <hidden> \\r\\n");
  EXPECT_EQ(r(1, "cret \r\nMSG bbb aaa hi"), " \\r\\nMSG bbb aaa hi");
  EXPECT_EQ(r(1, "AUTH x y\n"), "AUTH x y\\n");  // only the first line is the login
  EXPECT_EQ(r(3, "AUTH ccc a b\r\n"), "AUTH ccc <hidden> <hidden>\\r\\n");
}

TEST(SslmessagerRedactor, HidesEvenThePasswordsLength) {
  auth_redactor r;
  EXPECT_EQ(r(1, "AUTH aaa x \r\n"), r(2, "AUTH aaa a-much-longer-password \r\n"));
  EXPECT_EQ(loggable("AUTH aaa secret \r\n"), "AUTH aaa <hidden> \\r\\n");
  EXPECT_EQ(loggable("MSG bbb aaa secret \r\n"), "MSG bbb aaa secret \\r\\n");
}

}  // namespace
}  // namespace parley::sslmessager
