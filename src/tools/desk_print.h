#pragma once

// hubctl's tables: hubd's answers (docs/api.md) printed for people on
// stdout. Times come from the answer's ISO siblings (AnswerTimes).

#include <string>

#include "hub/v1/desk.pb.h"
#include "hub/v1/exception.pb.h"
#include "hub/v1/reference.pb.h"
#include "hub/v1/views.pb.h"
#include "tools/answer_times.h"

namespace hub::tools {

using Cases = google::protobuf::RepeatedPtrField<v1::ExceptionCase>;

// The header line of PrintCases, and one case as a row under it.
void PrintCaseHeader();
void PrintCaseRow(const v1::ExceptionCase& c, const AnswerTimes& times);
// A header and a row per case.
void PrintCases(const Cases& cases, const AnswerTimes& times);
// One case with everything it carries: ids, counts, missing and unexpected
// ids, station and scanner, and who moved it along, when, with what note.
void PrintCase(const v1::ExceptionCase& c, const AnswerTimes& times);

// An answer as a table (Show in hubctl.cc prints each GET answer with one
// of these). An entity view: its head, its history (not for loads) and its
// cases.
void PrintAnswer(const v1::ParcelTrace& t, const AnswerTimes& times);
void PrintAnswer(const v1::BagView& b, const AnswerTimes& times);
void PrintAnswer(const v1::VehicleView& v, const AnswerTimes& times);
void PrintAnswer(const v1::LoadView& l, const AnswerTimes& times);

// A one-of body of a message as "name { field: value ... }" (a message) or
// "name value" (a scalar, e.g. remove_hold "P1"); "" when none is set.
std::string OneofBody(const google::protobuf::Message& m, const char* oneof);

void PrintAnswer(const v1::Summary& s, const AnswerTimes&);
void PrintReport(const v1::Report& r, const AnswerTimes& times);
// The report as CSV, the sections docs/api.md names, a blank line between.
void PrintReportCsv(const v1::Report& r, const AnswerTimes& times);
void PrintAudit(const v1::AuditPage& page, const AnswerTimes& times);
void PrintAnswer(const v1::RoutingTable& table, const AnswerTimes&);
void PrintAnswer(const v1::HoldList& holds, const AnswerTimes& times);
void PrintAnswer(const v1::VehicleAdvice& a, const AnswerTimes&);
void PrintAnswer(const v1::BagAdvice& a, const AnswerTimes&);

}  // namespace hub::tools
